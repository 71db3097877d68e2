"""WeCom message archive: the ctypes puller against a fake finance SDK (a real shared library compiled here with
gcc, same exported C interface), RSA key versions, paging with a checkpoint that survives a restart, media in
512 KB slices with md5 checks, and `import archive` producing the same events."""

from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from Crypto.Cipher import PKCS1_v1_5
from Crypto.PublicKey import RSA

from adapters.base import AdapterContext
from adapters.wecom.archive import CHECKPOINT_KEY, ArchivePuller, FinanceSdk, load_private_keys
from adapters.wecom.import_archive import import_file
from bot.errors import ConfigError, PlatformError
from store import customers as customer_store
from store import kv, open_store
from store import wecom as wecom_store

HERE = Path(__file__).parent
CORP, ARCHIVE_SECRET = "wwcorp", "archive-secret"


@pytest.fixture(scope="module")
def sdk_path(tmp_path_factory) -> str:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not available")
    out = tmp_path_factory.mktemp("sdk") / "libWeWorkFinanceSdk_C.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(out), str(HERE / "wecom_fake_finance_sdk.c")],
                   check=True, capture_output=True)
    return str(out)


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    keys, specs = {}, []
    for ver in (1, 2):
        key = RSA.generate(1024)
        path = folder / f"v{ver}.pem"
        path.write_bytes(key.export_key())
        keys[ver] = key
        specs.append(f"{ver}={path}")
    return keys, tuple(specs)


def amr_bytes() -> bytes:
    from adapters.wecom.media import ffmpeg_exe

    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                           "sine=frequency=300:duration=2:sample_rate=8000", "-ac", "1", "-ar", "8000", "-c:a",
                           "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr", "pipe:1"],
                          capture_output=True, check=True).stdout


T = 1_772_413_200_000


def records(amr: bytes, big: bytes) -> list[dict]:
    return [
        {"msgid": "m1", "action": "send", "from": "zhangwei", "tolist": ["wmCust1"], "roomid": "", "msgtime": T,
         "msgtype": "text", "text": {"content": "王总您好，方案PDF已发您邮箱"}},
        {"msgid": "m2", "action": "send", "from": "wmCust1", "tolist": ["zhangwei"], "roomid": "",
         "msgtime": T + 60_000, "msgtype": "text", "text": {"content": "价格太贵了，再比较一下"}},
        {"msgid": "m3", "action": "send", "from": "zhangwei", "tolist": ["wmCust1"], "roomid": "",
         "msgtime": T + 120_000, "msgtype": "voice",
         "voice": {"md5sum": hashlib.md5(amr).hexdigest(), "voice_size": len(amr), "play_length": 2,
                   "sdkfileid": "voice-1"}},
        {"msgid": "m4", "action": "send", "from": "zhangwei", "tolist": ["wmCust1"], "roomid": "",
         "msgtime": T + 180_000, "msgtype": "file",
         "file": {"md5sum": hashlib.md5(big).hexdigest(), "filename": "XX型号参数", "fileext": "pdf",
                  "filesize": len(big), "sdkfileid": "file-1"}},
        {"msgid": "m5", "action": "switch", "time": T, "user": "zhangwei"},
        {"msgid": "m6", "action": "send", "from": "woCust2", "tolist": ["lina"], "roomid": "", "msgtime": T + 1,
         "msgtype": "text", "text": {"content": "收到"}},
    ]


def encrypt_item(seq: int, record: dict, ver: int, keys: dict) -> dict:
    random_key = os.urandom(8).hex()  # what WeCom wraps with RSA
    plain = json.dumps(record, ensure_ascii=False).encode()
    cipher = bytes(b ^ random_key.encode()[i % len(random_key)] for i, b in enumerate(plain)).hex()
    pub = keys[ver].publickey() if ver in keys else RSA.generate(1024).publickey()
    wrapped = base64.b64encode(PKCS1_v1_5.new(pub).encrypt(random_key.encode())).decode()
    return {"seq": seq, "msgid": record["msgid"], "publickey_ver": ver, "encrypt_random_key": wrapped,
            "encrypt_chat_msg": cipher}


@pytest.fixture
def archive(tmp_path, monkeypatch, rsa_keys):
    keys, _specs = rsa_keys
    folder = tmp_path / "wwfake"
    (folder / "media").mkdir(parents=True)
    (folder / "secret").write_text(ARCHIVE_SECRET)
    amr, big = amr_bytes(), os.urandom(1_300_000)
    (folder / "media" / "voice-1").write_bytes(amr)
    (folder / "media" / "file-1").write_bytes(big)
    recs = records(amr, big)
    versions = [1, 1, 2, 2, 1, 2]
    lines = [f"{i}\t{json.dumps(encrypt_item(i, r, v, keys))}" for i, (r, v) in enumerate(zip(recs, versions, strict=True), 1)]
    # one item encrypted for a key version we do not have
    lost = {"msgid": "m7", "action": "send", "from": "lina", "tolist": ["wmCust1"], "roomid": "",
            "msgtime": T + 7, "msgtype": "text", "text": {"content": "x"}}
    lines.append(f"7\t{json.dumps(encrypt_item(7, lost, 3, keys))}")
    (folder / "chat.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("WWFAKE_DIR", str(folder))
    return {"dir": folder, "records": recs, "amr": amr, "big": big}


def make_puller(store, clock, config, sdk_path, specs, tmp_path, limit):
    ctx = AdapterContext(store, config, clock, lambda: None)

    def factory() -> FinanceSdk:
        sdk = FinanceSdk(sdk_path)
        sdk.init(CORP, ARCHIVE_SECRET)
        return sdk

    return ArchivePuller(ctx, factory, load_private_keys(specs), media_dir=tmp_path / "media", limit=limit)


def stat(sdk_path: str, name: str) -> int:
    lib = ctypes.CDLL(sdk_path)
    lib.FakeStat.restype = ctypes.c_long
    lib.FakeStat.argtypes = [ctypes.c_char_p]
    return lib.FakeStat(name.encode())


def inbox(store):
    return {r["external_id"]: (r["status"], r["event"], r["error"]) for r in
            store.conn.execute("SELECT external_id, status, event, error FROM inbox")}


async def test_paging_checkpoint_restart_keys_and_media(store, clock, config, sdk_path, rsa_keys, archive, tmp_path):
    _keys, specs = rsa_keys
    first = make_puller(store, clock, config, sdk_path, specs, tmp_path, limit=3)
    assert await first.pull_once() == 3
    assert kv.get(store, CHECKPOINT_KEY) == "3" and stat(sdk_path, "last_seq") == 0
    first.close()  # "restart": a new puller, a new SDK handle, only the database remembers
    second = make_puller(store, clock, config, sdk_path, specs, tmp_path, limit=3)
    assert await second.pull_all() == 4  # 3 + 1 (short page: caught up)
    assert stat(sdk_path, "last_seq") == 6 and stat(sdk_path, "last_limit") == 3
    assert await second.pull_all() == 0 and kv.get(store, CHECKPOINT_KEY) == "7"
    second.close()
    assert stat(sdk_path, "live_slices") == 0 and stat(sdk_path, "live_media") == 0

    rows = inbox(store)
    for mid in ("m1", "m2", "m3", "m4", "m6"):
        assert rows[f"wecom-archive:{mid}"][0] == "pending"
    assert rows["wecom-archive:m5"][0] == "unsupported"  # a 'switch' marker, kept visible
    status, _ev, error = rows["wecom-archive-seq:7"]
    assert status == "failed" and "publickey_ver 3" in error  # no key for v3: kept (failed: retention keeps it)
    m4 = json.loads(rows["wecom-archive:m4"][1])
    assert m4["kind"] == "file" and m4["file_name"] == "XX型号参数.pdf" and m4["media_id"] == "file-1"
    v1_and_v2 = [json.loads(rows[f"wecom-archive:{m}"][1])["text"] for m in ("m1", "m2")]
    assert v1_and_v2 == ["王总您好，方案PDF已发您邮箱", "价格太贵了，再比较一下"]

    # media: the 1.3 MB file took three 512 KB slices, voice one; md5 checked; voice also as 16 kHz WAV
    assert stat(sdk_path, "media_calls") >= 4
    assert Path(wecom_store.media_path(store, "file-1")).read_bytes() == archive["big"]
    wav = Path(wecom_store.media_path(store, "voice-1")).read_bytes()
    assert wav[:4] == b"RIFF" and int.from_bytes(wav[24:28], "little") == 16000

    # the adapter hands the stored WAV to speech recognition without any network call
    from adapters.wecom.adapter import WeComAdapter

    adapter = WeComAdapter(AdapterContext(store, config, clock, lambda: None))
    assert (await adapter.download_voice_wav("voice-1")) == wav
    assert (await adapter.download("file-1")) == archive["big"]

    # external contacts became customers
    for ext in ("wmCust1", "woCust2"):
        cid = customer_store.find_by_key(store, "external_id", ext)
        assert cid and customer_store.get(store, cid) is not None


async def test_media_with_wrong_md5_is_not_kept(store, clock, config, sdk_path, rsa_keys, archive, tmp_path):
    (archive["dir"] / "media" / "file-1").write_bytes(b"tampered")
    puller = make_puller(store, clock, config, sdk_path, rsa_keys[1], tmp_path, limit=1000)
    await puller.pull_all()
    puller.close()
    assert wecom_store.media_path(store, "file-1") is None
    assert inbox(store)["wecom-archive:m4"][0] == "pending"  # the message itself is still stored


async def test_wrong_archive_secret_is_a_permanent_error(sdk_path, archive):
    sdk = FinanceSdk(sdk_path)
    with pytest.raises(PlatformError) as err:
        sdk.init(CORP, "wrong")
    assert err.value.permanent
    sdk.close()


def test_private_key_specs_are_checked(tmp_path):
    with pytest.raises(ConfigError):
        load_private_keys(["no-equals-sign"])
    with pytest.raises(ConfigError):
        load_private_keys([f"1={tmp_path / 'missing.pem'}"])
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(ConfigError):
        load_private_keys([f"1={tmp_path / 'bad.pem'}"])


async def test_import_gives_the_same_events_as_the_puller(store, clock, config, sdk_path, rsa_keys, archive,
                                                          tmp_path):
    puller = make_puller(store, clock, config, sdk_path, rsa_keys[1], tmp_path, limit=1000)
    await puller.pull_all()
    puller.close()
    jsonl = tmp_path / "decrypted.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in archive["records"]) + "\n")
    other = open_store(tmp_path / "import.db")
    try:
        counts = import_file(AdapterContext(other, config, clock, lambda: None), jsonl, lambda m: None)
        assert counts == {"new": 5, "duplicate": 0, "unsupported": 1, "bad": 0}
        pulled, imported = inbox(store), inbox(other)
        for key, value in imported.items():
            assert pulled[key][:2] == value[:2], key
        # importing into the database the puller filled stores nothing twice
        again = import_file(AdapterContext(store, config, clock, lambda: None), jsonl, lambda m: None)
        assert again["new"] == 0 and again["duplicate"] == 6
    finally:
        other.close()


def test_import_reports_bad_lines_with_numbers(store, clock, config, tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = {"msgid": "g1", "action": "send", "from": "zhangwei", "tolist": ["wmX"], "roomid": "", "msgtime": T,
            "msgtype": "text", "text": {"content": "好的"}}
    path.write_text("\n".join([json.dumps(good), "{broken", "[1,2]", json.dumps({**good, "msgid": "g2",
                                                                                 "msgtime": "yesterday"}),
                               "", json.dumps({**good, "msgid": "g3", "msgtype": "vote", "vote": {}})]) + "\n")
    messages: list[str] = []
    counts = import_file(AdapterContext(store, config, clock, lambda: None), path, messages.append)
    assert counts == {"new": 1, "duplicate": 0, "unsupported": 1, "bad": 3}
    assert [m.split(":")[1].split("：")[0] for m in messages] == ["2", "3", "4"]
    assert "不是 JSON" in messages[0] and "msgtime 必须是正整数（毫秒）" in messages[2]
    assert all(str(path) in m for m in messages)


async def test_archive_events_flow_through_the_runtime(runtime, clock, sdk_path, rsa_keys, archive, tmp_path):
    puller = make_puller(runtime.store, clock, runtime.config, sdk_path, rsa_keys[1], tmp_path, limit=1000)
    await puller.pull_all()
    puller.close()
    await runtime.settle()
    counts = runtime.store.conn.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status").fetchall()
    assert dict((r[0], r[1]) for r in counts) == {"done": 5, "unsupported": 1, "failed": 1}


async def test_adapter_runs_the_puller_and_doctor_reports_it(store, clock, config, sdk_path, rsa_keys, archive,
                                                              tmp_path):
    import asyncio

    import wecom_helpers as h

    from adapters.wecom.adapter import WeComAdapter

    cfg = h.wecom_config(config, archive_sdk_path=sdk_path, archive_secret=ARCHIVE_SECRET,
                         archive_private_keys=rsa_keys[1], org_sync_cron="")
    adapter = WeComAdapter(AdapterContext(store, cfg, clock, lambda: None))
    lines = {name: (ok, text) for name, ok, text in adapter.doctor()}
    assert lines["企业微信会话存档"][0] and "私钥版本 1, 2" in lines["企业微信会话存档"][1]
    await adapter.start()
    assert adapter.puller is not None and [t.get_name() for t in adapter._tasks] == ["wecom-archive"]
    await asyncio.wait_for(adapter.stop(), timeout=30)
    assert adapter._tasks == []
    missing = h.wecom_config(config, archive_sdk_path=str(tmp_path / "nope.so"), archive_secret="x")
    lines = {n: (ok, t) for n, ok, t in WeComAdapter(AdapterContext(store, missing, clock, lambda: None)).doctor()}
    assert not lines["企业微信会话存档"][0] and "找不到 SDK" in lines["企业微信会话存档"][1]
