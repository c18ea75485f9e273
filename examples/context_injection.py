"""A tool that needs the caller's context (a user id, a database handle) it must not get from the model.

    LIGHTLLM_BASE_URL=http://localhost:8000 python examples/context_injection.py
"""

from dataclasses import dataclass
from typing import Annotated

from toolkit import Injected, RunContext, run, tool


@dataclass
class Account:
    user: str
    balance: float


@tool
def get_balance(account: Annotated[Account, Injected], ctx: RunContext, currency: str = "EUR") -> str:
    """Get the signed-in user's balance.

    Args:
        currency: Currency to show the balance in.
    """
    return f"{account.user} has {account.balance:.2f} {currency} (call {ctx.tool_call_id})"


if __name__ == "__main__":
    print(get_balance.parameters)  # only "currency": the account is never shown to the model
    result = run("How much money do I have?", tools=[get_balance], context=Account("ada", 1234.5))
    print(result.output)
