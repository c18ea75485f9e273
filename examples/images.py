"""Send an image (data: URL, http(s) URL, or a local file from an allowed folder) to a vision model.

    LIGHTLLM_BASE_URL=http://localhost:8000 python examples/images.py path/to/picture.png
"""

import pathlib
import sys

from toolkit import LightLLMClient


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: python {argv[0]} PICTURE  (a .png/.jpg file to describe)", file=sys.stderr)
        return 2
    picture = pathlib.Path(argv[1]).resolve()
    with LightLLMClient(allowed_image_dirs=[picture.parent]) as client:
        answer = client.chat.completions.create(messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": str(picture)}},
        ]}], max_tokens=200)
        print(answer.choices[0].message.content)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
