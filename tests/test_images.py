"""Image inputs: the test server checks multimodal_params and the placeholder count."""

from __future__ import annotations

import base64

import pytest

from toolkit import LightLLMClient
from toolkit.testing._server import IMAGE_PLACEHOLDER, PNG

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
    with LightLLMClient(base_url=server.url, fetch_images=True, allow_private_image_hosts=True) as c:
        ask(c, image(server.url + "/image.png"))
    assert server.last.body["multimodal_params"]["images"] == [{"type": "base64", "data": B64}]


@pytest.mark.parametrize("path, message", [("/page.html", "is not an image"), ("/big.png", "larger than"),
                                           ("/missing.png", "HTTP 404")])
def test_fetch_refusals(server, path, message):
    with LightLLMClient(base_url=server.url, fetch_images=True, max_image_bytes=10_000, allow_private_image_hosts=True) as c:
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


# -- fetching safely: no credentials, no SSRF, caps on decoded bytes ------------------------------------------

def _image_requests(server, path):
    return [r for r in server.requests if r.method == "GET" and r.path.startswith(path)]


def test_image_hosts_never_receive_the_clients_credentials(server):
    import requests

    session = requests.Session()
    session.cookies.set("sid", "cookie-of-the-client")
    with LightLLMClient(base_url=server.url, api_key="sk-secret", fetch_images=True, session=session,
                        headers={"X-Team": "a"}, allow_private_image_hosts=True) as c:
        ask(c, image(server.url + "/image.png"))
    fetched = _image_requests(server, "/image.png")
    assert len(fetched) == 1
    headers = {k.lower(): v for k, v in fetched[0].headers.items()}
    assert "authorization" not in headers and "cookie" not in headers and "x-team" not in headers
    generate = [r for r in server.requests if r.path == "/generate"][0]
    assert generate.headers["Authorization"] == "Bearer sk-secret"  # the server itself still gets the key


def test_private_hosts_are_refused_by_default(server):
    with LightLLMClient(base_url=server.url, fetch_images=True) as c:
        with pytest.raises(ValueError, match="non-public address 127.0.0.1.*allow_private_image_hosts"):
            ask(c, image(server.url + "/image.png"))
    assert _image_requests(server, "/image.png") == []  # refused before connecting


def test_every_redirect_hop_is_checked(server):
    port = server.url.rsplit(":", 1)[1]
    secret = f"http://localhost:{port}/secret"
    hop = f"{server.url}/redirect?to={secret}"
    with LightLLMClient(base_url=server.url, fetch_images=True,
                        allow_private_image_hosts=[f"127.0.0.1:{port}"]) as c:
        with pytest.raises(ValueError, match="localhost resolves to the non-public address"):
            ask(c, image(hop))
        # a hop to another scheme is refused too
        with pytest.raises(ValueError, match="only http and https"):
            ask(c, image(f"{server.url}/redirect?to=file:///etc/passwd"))
        # a redirect to an allowed host is followed
        ask(c, image(f"{server.url}/redirect?to={server.url}/image.png"))
    assert server.last.body["multimodal_params"]["images"] == [{"type": "base64", "data": B64}]
    assert _image_requests(server, "/secret") == []


@pytest.mark.parametrize("path", ["/bomb.png", "/lying.png"])
def test_size_cap_applies_to_decoded_bytes(server, path):
    with LightLLMClient(base_url=server.url, fetch_images=True, max_image_bytes=100_000,
                        allow_private_image_hosts=True) as c:
        with pytest.raises(ValueError, match="larger than the 100000-byte limit"):
            ask(c, image(server.url + path))


def test_gzip_images_are_decoded(server):
    with LightLLMClient(base_url=server.url, fetch_images=True, allow_private_image_hosts=True) as c:
        ask(c, image(server.url + "/gzip.png"))
    assert server.last.body["multimodal_params"]["images"] == [{"type": "base64", "data": B64}]


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("0.0.0.0", False), ("::1", False), ("fe80::1", False), ("::", False),
    ("fd00::1", False), ("::ffff:10.0.0.1", False), ("8.8.8.8", True), ("2606:4700:4700::1111", True)])
def test_address_rules(address, public):
    from toolkit.client._images import is_public_address

    assert is_public_address(address) is public
