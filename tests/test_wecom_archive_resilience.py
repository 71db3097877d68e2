"""The archive puller under real-world failures: media that fails to download is retried (in place per slice, then
on later pulls) instead of being lost once the checkpoint moves; an item encrypted with a key version we do not
have yet keeps its ciphertext and is decrypted once the key is configured (key rotation); a crash between pull and
commit re-pulls the page without storing anything twice."""

from __future__ import annotations

import json
import os

import pytest
import test_wecom_archive as shared
from Crypto.PublicKey import RSA
from test_wecom_archive import ARCHIVE_SECRET, CORP, T, encrypt_item, inbox, make_puller

from adapters.base import AdapterContext
from adapters.wecom import archive as archive_mod
from adapters.wecom.archive import (
    CHECKPOINT_KEY,
    MEDIA_PENDING_KEY,
    UNDECRYPTED_KEY,
    ArchivePuller,
    FinanceSdk,
    load_private_keys,
)
from bot.errors import PlatformError
from store import kv
from store import wecom as wecom_store

pytestmark = pytest.mark.timeout(60)

# the archive tests' fixtures: the fake finance SDK compiled with gcc, RSA keys v1/v2, the chat data folder
sdk_path, rsa_keys, archive = shared.sdk_path, shared.rsa_keys, shared.archive


async def test_media_that_fails_is_fetched_on_a_later_pull(store, clock, config, sdk_path, rsa_keys, archive,
                                                           tmp_path):
    voice = archive["dir"] / "media" / "voice-1"
    saved = voice.read_bytes()
    voice.unlink()  # the SDK cannot get it now (network trouble, CDN hiccup …)
    puller = make_puller(store, clock, config, sdk_path, rsa_keys[1], tmp_path, limit=1000)
    await puller.pull_all()
    assert inbox(store)["wecom-archive:m3"][0] == "pending"  # the voice message itself is stored at once
    assert wecom_store.media_path(store, "voice-1") is None
    assert [p["sdkfileid"] for p in json.loads(kv.get(store, MEDIA_PENDING_KEY))] == ["voice-1"]
    checkpoint = kv.get(store, CHECKPOINT_KEY)

    voice.write_bytes(saved)  # reachable again
    await puller.pull_all()
    puller.close()
    wav = wecom_store.media_path(store, "voice-1")
    assert wav is not None and open(wav, "rb").read(4) == b"RIFF"
    assert json.loads(kv.get(store, MEDIA_PENDING_KEY)) == []
    assert kv.get(store, CHECKPOINT_KEY) == checkpoint  # no re-pull of the page was needed


async def test_a_slice_that_fails_once_is_asked_for_again(store, clock, config, sdk_path, rsa_keys, archive,
                                                          tmp_path):
    failed: list[str] = []

    class Flaky(FinanceSdk):
        def media_slice(self, sdkfileid, indexbuf, *a, **kw):
            if sdkfileid == "file-1" and indexbuf and not failed:  # the second 512 KB slice, once
                failed.append(indexbuf)
                raise PlatformError("wecom archive: GetMediaData failed (10001)")
            return super().media_slice(sdkfileid, indexbuf, *a, **kw)

    def factory():
        sdk = Flaky(sdk_path)
        sdk.init(CORP, ARCHIVE_SECRET)
        return sdk

    puller = ArchivePuller(AdapterContext(store, config, clock, lambda: None), factory,
                           load_private_keys(rsa_keys[1]), media_dir=tmp_path / "media")
    await puller.pull_all()
    puller.close()
    assert failed
    path = wecom_store.media_path(store, "file-1")
    assert path is not None and open(path, "rb").read() == archive["big"]


async def test_a_rotated_key_added_later_recovers_the_items_it_encrypted(store, clock, config, sdk_path, rsa_keys,
                                                                        archive, tmp_path):
    keys, specs = rsa_keys
    new_key = RSA.generate(1024)  # the admin rotated the key in WeCom; bot.toml does not have version 3 yet
    rec = {"msgid": "m8", "action": "send", "from": "wmCust1", "tolist": ["zhangwei"], "roomid": "",
           "msgtime": T + 8, "msgtype": "text", "text": {"content": "合同我们签了"}}
    chat = archive["dir"] / "chat.txt"
    chat.write_text(chat.read_text() + f"8\t{json.dumps(encrypt_item(8, rec, 3, {**keys, 3: new_key}))}\n")

    first = make_puller(store, clock, config, sdk_path, specs, tmp_path, limit=1000)
    await first.pull_all()
    first.close()
    status, _event, error = inbox(store)["wecom-archive-seq:8"]
    assert status == "failed" and "publickey_ver 3" in error  # kept visible, and out of retention's reach …
    assert 8 in json.loads(kv.get(store, UNDECRYPTED_KEY))  # … and remembered with its ciphertext
    assert kv.get(store, CHECKPOINT_KEY) == "8"

    pem = tmp_path / "v3.pem"
    pem.write_bytes(new_key.export_key())
    second = make_puller(store, clock, config, sdk_path, (*specs, f"3={pem}"), tmp_path, limit=1000)
    await second.pull_all()
    await second.pull_all()
    second.close()
    rows = inbox(store)
    assert rows["wecom-archive:m8"][0] == "pending"
    assert json.loads(rows["wecom-archive:m8"][1])["text"] == "合同我们签了"
    assert json.loads(kv.get(store, UNDECRYPTED_KEY)) == [7]  # m7's key (random, never kept) is still missing
    assert sum(1 for k in rows if k.endswith("m8")) == 1
    assert rows["wecom-archive-seq:8"][0] == "done"  # the ciphertext row is settled once its content is in


async def test_a_crash_between_pull_and_commit_re_pulls_without_duplicates(store, clock, config, sdk_path, rsa_keys,
                                                                          archive, tmp_path, monkeypatch):
    puller = make_puller(store, clock, config, sdk_path, rsa_keys[1], tmp_path, limit=3)
    real_put = kv.put

    def crash(store_, key, value):
        if key == CHECKPOINT_KEY:
            raise OSError("disk full")  # after the page's rows were written, before the commit
        real_put(store_, key, value)

    monkeypatch.setattr(archive_mod.kv, "put", crash)
    with pytest.raises(OSError):
        await puller.pull_once()
    assert not inbox(store) and kv.get(store, CHECKPOINT_KEY) is None  # all or nothing
    monkeypatch.setattr(archive_mod.kv, "put", real_put)
    await puller.pull_all()
    await puller.pull_all()
    puller.close()
    rows = inbox(store)
    assert {k for k in rows if k.startswith("wecom-archive:")} == {f"wecom-archive:m{i}" for i in range(1, 7)}
    assert kv.get(store, CHECKPOINT_KEY) == "7"
    assert os.path.exists(wecom_store.media_path(store, "file-1"))
