"""Default limits shared by the loop's signatures and the code that applies them (no imports)."""

#: Longest tool result fed back to the model (characters); longer ones are cut with a note.
DEFAULT_MAX_RESULT_CHARS = 20_000
#: Largest image a tool may return (bytes).
DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024
