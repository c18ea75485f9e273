"""Image inputs: the test server checks multimodal_params and the placeholder count."""

from __future__ import annotations

import base64

import pytest

from toolkit import LightLLMClient

from .lightllm_server import IMAGE_PLACEHOLDER, PNG

B64 = base64.b64encode(PNG).decode()


def ask(client, *parts):
    return client.chat.completions.create(messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, *parts]}])


def image(url):
    return {"type": "image_url", "image_url": {"url": url}}


def test_data_url_becomes_plain_base64(client, server):
    ask(client, image(f"data:image/png;base64,{B64}"))
    sent = server.last.body
    assert sent["multimodal_params"] == {"images": [{"type": "base64", "data": B64}]}
    assert sent["inputs"].count(IMAGE_PLACEHOLDER) == 1
    assert f"What is this?{IMAGE_PLACEHOLDER}<|im_end|>" in sent["inputs"]


def test_http_url_is_passed_for_the_server_to_fetch(client, server):
    ask(client, image(server.url + "/image.png"), image("https://example.invalid/b.png"))
    images = server.last.body["multimodal_params"]["images"]
    assert images == [{"type": "url", "data": server.url + "/image.png"},
                      {"type": "url", "data": "https://example.invalid/b.png"}]
    assert server.last.body["inputs"].count(IMAGE_PLACEHOLDER) == 2


def test_fetch_images_downloads_client_side(server):
    with LightLLMClient(base_url=server.url, fetch_images=True) as c:
        ask(c, image(server.url + "/image.png"))
    assert server.last.body["multimodal_params"]["images"] == [{"type": "base64", "data": B64}]


@pytest.mark.parametrize("path, message", [("/page.html", "is not an image"), ("/big.png", "larger than"),
                                           ("/missing.png", "HTTP 404")])
def test_fetch_refusals(server, path, message):
    with LightLLMClient(base_url=server.url, fetch_images=True, max_image_bytes=10_000) as c:
        with pytest.raises(ValueError, match=message):
            ask(c, image(server.url + path))
    assert all(r.path != "/generate" for r in server.requests)


def test_local_files_only_from_allowed_dirs(server, tmp_path):
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)
    with LightLLMClient(base_url=server.url) as c:
        with pytest.raises(ValueError, match="allowed_image_dirs"):
            ask(c, image(str(picture)))
    with LightLLMClient(base_url=server.url, allowed_image_dirs=[tmp_path]) as c:
        ask(c, image(str(picture)), image(picture.as_uri()))
        assert server.last.body["multimodal_params"]["images"] == [{"type": "base64", "data": B64}] * 2
        with pytest.raises(ValueError, match="allowed_image_dirs"):
            ask(c, image(str(tmp_path / ".." / "elsewhere.png")))


@pytest.mark.parametrize("url, message", [("ftp://host/x.png", "unsupported image source"),
                                          ("data:text/plain;base64,aGk=", "not an image"),
                                          ("data:image/png;base64,***", "not valid base64")])
def test_other_sources_are_clear_errors(client, url, message):
    with pytest.raises(ValueError, match=message):
        ask(client, image(url))


def test_openai_route_passes_parts_through(oai, server):
    parts = [{"type": "text", "text": "What is this?"}, image(f"data:image/png;base64,{B64}")]
    oai.chat.completions.create(messages=[{"role": "user", "content": parts}])
    assert server.last.body["messages"][0]["content"] == parts
