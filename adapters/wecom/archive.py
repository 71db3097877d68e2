"""会话内容存档 puller: the official finance SDK (libWeWorkFinanceSdk_C.so) through ctypes.

Why ctypes and a thread: the pull protocol and DecryptData are undocumented, so the vendor's C library is the only
client; its calls block (network inside), so every SDK call runs in a worker thread and only the results come back
to the event loop, where they are written to SQLite (the store's connection stays on one thread).

Per page: GetChatData(seq, limit) → for each item, RSA PKCS#1 v1.5-decrypt `encrypt_random_key` with the private
key of its `publickey_ver` (every historical key is kept: [wecom] archive_private_keys "VER=path"), DecryptData →
the JSON record → the same normaliser as `import archive` (adapters/wecom/ingest.py). Media (image, voice, file)
is fetched with GetMediaData in 512 KB slices and checked against the record's md5sum; voice is also converted to
16 kHz WAV. The page's records and the new seq checkpoint (kv `wecom.archive.seq`) commit in one transaction, so a
restart resumes exactly after the last stored page and a crash mid-page re-pulls it harmlessly (inbox dedupe).
Items that cannot be decrypted (no key for their version yet, e.g. after a key rotation in the admin console that
bot.toml has not caught up with) are kept in the inbox as unsupported *with their ciphertext*, and their seq is
remembered (kv `wecom.archive.undecrypted`): once the puller runs with a key for that version, they are decrypted
and stored like any other record. WeCom keeps archive data only ~5 days, so dropping the ciphertext would lose them.

Media: every slice is retried a few times in place (same indexbuf) before the file counts as failed; a failed file
is remembered (kv `wecom.archive.media_pending`) and fetched again on later pulls, so a network blip during a pull
does not lose a voice message for good, while the message itself is stored at once and the checkpoint moves on.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from Crypto.Cipher import PKCS1_v1_5
from Crypto.PublicKey import RSA

from adapters.base import AdapterContext
from adapters.wecom import media as wecom_media
from adapters.wecom.ingest import ingest_record
from bot.errors import BadPayload, ConfigError, PlatformError
from prompts import Keyed
from store import kv
from store import wecom as wecom_store

log = logging.getLogger("salespulse.wecom.archive")

CHECKPOINT_KEY = "wecom.archive.seq"
UNDECRYPTED_KEY = "wecom.archive.undecrypted"  # JSON list of seqs kept with their ciphertext, waiting for a key
MEDIA_PENDING_KEY = "wecom.archive.media_pending"  # JSON list of media fetches to try again
SLICE_ATTEMPTS = 3
MEDIA_MAX_ATTEMPTS = 20  # later pulls; WeCom's media expire after a few days anyway
PAGE_LIMIT = 1000
MEDIA_TYPES = {"image": "jpg", "voice": "amr", "file": "", "video": "mp4"}


# ---------------------------------------------------------------- keys


def load_private_keys(specs: tuple[str, ...] | list[str]) -> dict[int, Any]:
    """"VER=path" entries → {version: RSA key}. Every version ever used must stay listed (old records need it)."""
    keys: dict[int, Any] = {}
    for spec in specs:
        ver, sep, path = spec.partition("=")
        if not sep or not ver.strip().isdigit() or not path.strip():
            raise ConfigError(Keyed("config_errors.wecom_key_spec", spec=spec))
        try:
            keys[int(ver)] = RSA.import_key(Path(path.strip()).read_bytes())
        except OSError as exc:
            raise ConfigError(Keyed("config_errors.wecom_key_unreadable", path=path.strip(), why=exc)) from None
        except (ValueError, IndexError, TypeError):
            raise ConfigError(Keyed("config_errors.wecom_key_not_rsa", path=path.strip())) from None
    return keys


def decrypt_random_key(keys: dict[int, Any], version: int, encrypted_b64: str) -> bytes:
    """RSA PKCS#1 v1.5 decryption of encrypt_random_key; BadPayload when the key is missing or it fails."""
    key = keys.get(version)
    if key is None:
        raise BadPayload(f"no private key for publickey_ver {version}")
    try:
        blob = base64.b64decode(encrypted_b64, validate=True)
    except ValueError:
        raise BadPayload("encrypt_random_key is not base64") from None
    sentinel = object()
    plain = PKCS1_v1_5.new(key).decrypt(blob, sentinel)
    if plain is sentinel or not plain:
        raise BadPayload(f"encrypt_random_key does not decrypt with key version {version}")
    return plain


# ---------------------------------------------------------------- the C SDK


class FinanceSdk:
    """ctypes binding of libWeWorkFinanceSdk_C.so (signatures as in WeWorkFinanceSdk_C.h)."""

    def __init__(self, lib_path: str) -> None:
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as exc:
            raise ConfigError(Keyed("config_errors.wecom_sdk_unloadable", path=lib_path, why=exc)) from None
        vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        lib.NewSdk.restype = vp
        lib.NewSdk.argtypes = []
        lib.Init.argtypes = [vp, cp, cp]
        lib.Init.restype = ci
        lib.DestroySdk.argtypes = [vp]
        lib.DestroySdk.restype = None
        lib.GetChatData.argtypes = [vp, ctypes.c_ulonglong, ctypes.c_uint, cp, cp, ci, vp]
        lib.GetChatData.restype = ci
        lib.DecryptData.argtypes = [cp, cp, vp]
        lib.DecryptData.restype = ci
        lib.GetMediaData.argtypes = [vp, cp, cp, cp, cp, ci, vp]
        lib.GetMediaData.restype = ci
        lib.NewSlice.restype = vp
        lib.NewSlice.argtypes = []
        lib.FreeSlice.argtypes = [vp]
        lib.FreeSlice.restype = None
        lib.GetContentFromSlice.argtypes = [vp]
        lib.GetContentFromSlice.restype = vp  # not c_char_p: binary-safe, read with string_at(ptr, len)
        lib.GetSliceLen.argtypes = [vp]
        lib.GetSliceLen.restype = ci
        lib.NewMediaData.restype = vp
        lib.NewMediaData.argtypes = []
        lib.FreeMediaData.argtypes = [vp]
        lib.FreeMediaData.restype = None
        for name in ("GetOutIndexBuf", "GetData"):
            getattr(lib, name).argtypes = [vp]
            getattr(lib, name).restype = vp
        for name in ("GetIndexLen", "GetDataLen", "IsMediaDataFinish"):
            getattr(lib, name).argtypes = [vp]
            getattr(lib, name).restype = ci
        self.lib = lib
        self.sdk = lib.NewSdk()
        if not self.sdk:
            raise PlatformError("wecom archive: NewSdk returned NULL", permanent=True)

    def init(self, corp_id: str, secret: str) -> None:
        ret = self.lib.Init(self.sdk, corp_id.encode(), secret.encode())
        if ret != 0:
            raise PlatformError(f"wecom archive: Init failed ({ret}); check corp_id and archive_secret", permanent=True)

    def _slice_bytes(self, sl: int) -> bytes:
        ptr, n = self.lib.GetContentFromSlice(sl), self.lib.GetSliceLen(sl)
        return ctypes.string_at(ptr, n) if ptr and n > 0 else b""

    def get_chat_data(self, seq: int, limit: int, proxy: str = "", passwd: str = "", timeout: int = 10) -> dict:
        sl = self.lib.NewSlice()
        try:
            ret = self.lib.GetChatData(self.sdk, seq, limit, proxy.encode(), passwd.encode(), timeout, sl)
            if ret != 0:
                raise PlatformError(f"wecom archive: GetChatData failed ({ret})")
            raw = self._slice_bytes(sl)
        finally:
            self.lib.FreeSlice(sl)
        try:
            data = json.loads(raw)
        except ValueError:
            raise PlatformError("wecom archive: GetChatData answer is not JSON") from None
        if not isinstance(data, dict):
            raise PlatformError("wecom archive: GetChatData answer is not an object")
        if data.get("errcode", 0) != 0:
            raise PlatformError(f"wecom archive: GetChatData errcode {data.get('errcode')} {data.get('errmsg', '')}")
        return data

    def decrypt(self, random_key: bytes, encrypt_chat_msg: str) -> bytes:
        sl = self.lib.NewSlice()
        try:
            ret = self.lib.DecryptData(random_key, encrypt_chat_msg.encode(), sl)
            if ret != 0:
                raise BadPayload(f"DecryptData failed ({ret})")
            return self._slice_bytes(sl)
        finally:
            self.lib.FreeSlice(sl)

    def media_slice(self, sdkfileid: str, indexbuf: str, proxy: str = "", passwd: str = "",
                    timeout: int = 30) -> tuple[bytes, str, bool]:
        """One GetMediaData call: (data, next indexbuf, is_finish)."""
        md = self.lib.NewMediaData()
        try:
            ret = self.lib.GetMediaData(self.sdk, indexbuf.encode(), sdkfileid.encode(), proxy.encode(),
                                        passwd.encode(), timeout, md)
            if ret != 0:
                raise PlatformError(f"wecom archive: GetMediaData failed ({ret})")
            dptr, dlen = self.lib.GetData(md), self.lib.GetDataLen(md)
            iptr, ilen = self.lib.GetOutIndexBuf(md), self.lib.GetIndexLen(md)
            data = ctypes.string_at(dptr, dlen) if dptr and dlen > 0 else b""
            index = ctypes.string_at(iptr, ilen).decode("ascii", "replace") if iptr and ilen > 0 else ""
            return data, index, bool(self.lib.IsMediaDataFinish(md))
        finally:
            self.lib.FreeMediaData(md)

    def fetch_media(self, sdkfileid: str, max_slices: int = 100_000) -> bytes:
        """All slices of one media file (512 KB each) concatenated."""
        parts: list[bytes] = []
        index = ""
        for _ in range(max_slices):
            for attempt in range(SLICE_ATTEMPTS):  # a failed slice is asked for again with the same indexbuf
                try:
                    data, next_index, finished = self.media_slice(sdkfileid, index)
                    break
                except PlatformError:
                    if attempt == SLICE_ATTEMPTS - 1:
                        raise
            index = next_index
            parts.append(data)
            if finished:
                return b"".join(parts)
        raise PlatformError(f"wecom archive: media {sdkfileid[:16]}… never finished")

    def close(self) -> None:
        if self.sdk:
            self.lib.DestroySdk(self.sdk)
            self.sdk = None


# ---------------------------------------------------------------- one page, in the worker thread


@dataclass
class PulledItem:
    seq: int
    msgid: str
    record: dict[str, Any] | None = None
    error: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class PulledMedia:
    sdkfileid: str
    msgid: str
    path: str
    md5: str
    size: int


@dataclass
class MediaFailure:
    sdkfileid: str
    msgid: str
    md5: str
    ext: str
    error: str


@dataclass
class Page:
    items: list[PulledItem]
    media: list[PulledMedia]
    max_seq: int
    media_errors: list[MediaFailure]


def _media_of(record: dict[str, Any]) -> tuple[str, str, str] | None:
    """(sdkfileid, md5sum, file extension) of a record carrying media."""
    msgtype = record.get("msgtype")
    if msgtype not in MEDIA_TYPES:
        return None
    sec = record.get(msgtype)
    if not isinstance(sec, dict):
        return None
    fid, md5 = sec.get("sdkfileid"), sec.get("md5sum", "")
    if not isinstance(fid, str) or not fid:
        return None
    ext = MEDIA_TYPES[msgtype] or str(sec.get("fileext") or "bin")
    ext = "".join(c for c in ext if c.isalnum())[:10] or "bin"
    return fid, md5 if isinstance(md5, str) else "", ext


def pull_page(sdk: FinanceSdk, keys: dict[int, Any], seq: int, limit: int, media_dir: Path | None) -> Page:
    """Blocking: one GetChatData page, decrypted, with its media on disk. Runs in a worker thread."""
    data = sdk.get_chat_data(seq, limit)
    items: list[PulledItem] = []
    media: list[PulledMedia] = []
    media_errors: list[MediaFailure] = []
    max_seq = seq
    chat = data.get("chatdata") or []
    if not isinstance(chat, list):
        raise PlatformError("wecom archive: chatdata is not a list")
    for entry in chat:
        if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
            continue
        item_seq = entry["seq"]
        max_seq = max(max_seq, item_seq)
        msgid = str(entry.get("msgid", ""))
        item = PulledItem(item_seq, msgid, raw=dict(entry))  # with its ciphertext: a later key can still open it
        try:
            item.record = decrypt_entry(sdk, keys, entry)
        except (BadPayload, ValueError, RecursionError) as exc:
            item.error = str(exc)[:300]
        items.append(item)
        if item.record is not None and media_dir is not None:
            info = _media_of(item.record)
            if info is not None:
                try:
                    media.append(_fetch_one(sdk, media_dir, msgid, *info))
                except (PlatformError, BadPayload, OSError) as exc:
                    media_errors.append(MediaFailure(info[0], msgid, info[1], info[2], str(exc)[:300]))
    return Page(items, media, max_seq, media_errors)


def decrypt_entry(sdk: FinanceSdk, keys: dict[int, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """One chatdata item → its JSON record; BadPayload (or ValueError) when it cannot be opened."""
    ver = entry.get("publickey_ver")
    if not isinstance(ver, int):
        raise BadPayload("publickey_ver missing")
    random_key = decrypt_random_key(keys, ver, str(entry.get("encrypt_random_key", "")))
    record = json.loads(sdk.decrypt(random_key, str(entry.get("encrypt_chat_msg", ""))))
    if not isinstance(record, dict):
        raise BadPayload("decrypted record is not an object")
    return record


def retry_media(sdk: FinanceSdk, media_dir: Path, pending: list[dict[str, Any]]
                ) -> tuple[list[PulledMedia], list[dict[str, Any]]]:
    """Blocking: fetch remembered media again → (fetched, still failing with attempts counted)."""
    fetched: list[PulledMedia] = []
    failing: list[dict[str, Any]] = []
    for p in pending:
        try:
            fetched.append(_fetch_one(sdk, media_dir, p["msgid"], p["sdkfileid"], p["md5"], p["ext"]))
        except (PlatformError, BadPayload, OSError) as exc:
            failing.append({**p, "attempts": int(p.get("attempts", 1)) + 1, "error": str(exc)[:300]})
    return fetched, failing


def _fetch_one(sdk: FinanceSdk, media_dir: Path, msgid: str, sdkfileid: str, md5: str, ext: str) -> PulledMedia:
    name = hashlib.sha1(sdkfileid.encode()).hexdigest()[:32]
    path = media_dir / f"{name}.{ext}"
    if path.exists() and (not md5 or hashlib.md5(path.read_bytes()).hexdigest() == md5):
        data = path.read_bytes()
    else:
        data = sdk.fetch_media(sdkfileid)
        digest = hashlib.md5(data).hexdigest()
        if md5 and digest != md5:
            raise BadPayload(f"md5 mismatch for media of {msgid} ({digest} != {md5})")
        media_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    stored = path
    if ext == "amr":  # voice: keep the AMR, hand ASR a 16 kHz mono WAV next to it
        wav = path.with_suffix(".wav")
        if not wav.exists():
            wav.write_bytes(wecom_media.to_wav_sync(data))
        stored = wav
    return PulledMedia(sdkfileid, msgid, str(stored), hashlib.md5(data).hexdigest(), len(data))


# ---------------------------------------------------------------- the puller


class ArchivePuller:
    def __init__(self, ctx: AdapterContext, sdk_factory: Callable[[], FinanceSdk], keys: dict[int, Any], *,
                 media_dir: Path | None, limit: int = PAGE_LIMIT, poll_s: float = 10.0) -> None:
        self.ctx = ctx
        self.sdk_factory = sdk_factory
        self.keys = keys
        self.media_dir = media_dir
        self.limit = limit
        self.poll_s = poll_s
        self._sdk: FinanceSdk | None = None
        self.pulled = 0
        self.errors = 0
        self._retried_undecrypted = False

    def checkpoint(self) -> int:
        return int(kv.get(self.ctx.store, CHECKPOINT_KEY, "0") or 0)

    async def _sdk_ready(self) -> FinanceSdk:
        if self._sdk is None:
            self._sdk = await asyncio.to_thread(self.sdk_factory)
        return self._sdk

    async def pull_once(self) -> int:
        """One page: pull in a thread, store on the loop. Returns how many items the page had."""
        sdk = await self._sdk_ready()
        if not self._retried_undecrypted:  # once per start: the keys only change with the configuration
            self._retried_undecrypted = True
            await self.retry_undecrypted()
        await self.retry_pending_media()
        seq = self.checkpoint()
        page = await asyncio.to_thread(pull_page, sdk, self.keys, seq, self.limit, self.media_dir)
        self._store_page(page)
        self.pulled += len(page.items)
        return len(page.items)

    def _json_list(self, key: str) -> list[Any]:
        try:
            value = json.loads(kv.get(self.ctx.store, key, "[]") or "[]")
        except ValueError:
            return []
        return value if isinstance(value, list) else []

    async def retry_undecrypted(self) -> int:
        """Items kept undecrypted whose key version is configured now (a rotated key added to bot.toml): decrypt
        and store them like fresh records. Returns how many were recovered."""
        from store import inbox as inbox_store

        seqs = [s for s in self._json_list(UNDECRYPTED_KEY) if isinstance(s, int)]
        if not seqs:
            return 0
        store, now = self.ctx.store, self.ctx.clock.now_ms()
        entries = {s: inbox_store.payload_of(store, "wecom", f"wecom-archive-seq:{s}") for s in seqs}
        ready = {s: e for s, e in entries.items()
                 if isinstance(e, dict) and e.get("publickey_ver") in self.keys and e.get("encrypt_chat_msg")}
        if not ready:
            return 0
        sdk = await self._sdk_ready()

        def decrypt_all() -> dict[int, dict[str, Any] | None]:
            out: dict[int, dict[str, Any] | None] = {}
            for s, e in ready.items():
                try:
                    out[s] = decrypt_entry(sdk, self.keys, e)
                except (BadPayload, ValueError, RecursionError):
                    out[s] = None
            return out

        opened = await asyncio.to_thread(decrypt_all)
        recovered = 0
        with store.transaction():
            for s, record in opened.items():
                if record is None:
                    continue
                try:
                    ingest_record(self.ctx, record, now, fallback_key=f"wecom-archive-seq:{s}:decrypted")
                except BadPayload as exc:
                    log.warning("wecom archive seq %s decrypted but unreadable: %s", s, exc)
                # the ciphertext row was kept as `failed` so retention could not drop it; its content is in now
                inbox_store.mark_by_key(store, "wecom", f"wecom-archive-seq:{s}", "done",
                                        "decrypted later with a newly configured key", now)
                recovered += 1
            # rows pruned by retention have nothing left to decrypt: forget them too
            keep = [s for s in seqs if entries.get(s) is not None and not (s in opened and opened[s] is not None)]
            kv.put(store, UNDECRYPTED_KEY, json.dumps(keep))
        if recovered:
            log.info("wecom archive: %d item(s) decrypted with a newly configured key", recovered)
        return recovered

    async def retry_pending_media(self) -> int:
        """Fetch media that failed on an earlier pull; returns how many arrived."""
        pending = [p for p in self._json_list(MEDIA_PENDING_KEY) if isinstance(p, dict) and p.get("sdkfileid")]
        if not pending or self.media_dir is None:
            return 0
        sdk = await self._sdk_ready()
        fetched, failing = await asyncio.to_thread(retry_media, sdk, self.media_dir, pending)
        store, now = self.ctx.store, self.ctx.clock.now_ms()
        keep = []
        for p in failing:
            if p["attempts"] >= MEDIA_MAX_ATTEMPTS:
                log.error("wecom archive media %s of %s given up after %d attempts: %s", p["sdkfileid"][:16],
                          p["msgid"], p["attempts"], p.get("error", ""))
            else:
                keep.append(p)
        with store.transaction():
            for m in fetched:
                wecom_store.save_media(store, m.sdkfileid, m.msgid, m.path, m.md5, m.size, now)
            kv.put(store, MEDIA_PENDING_KEY, json.dumps(keep))
        return len(fetched)

    def _store_page(self, page: Page) -> None:
        ctx, now = self.ctx, self.ctx.clock.now_ms()
        with ctx.store.transaction():
            undecrypted: list[int] = []
            for item in page.items:
                if item.record is None:
                    if ctx.accept("wecom", f"wecom-archive-seq:{item.seq}", item.raw, None,
                                  unsupported_reason=f"archive item not decrypted: {item.error}", keep=True):
                        undecrypted.append(item.seq)
                    continue
                try:
                    ingest_record(ctx, item.record, now, fallback_key=f"wecom-archive-seq:{item.seq}")
                except BadPayload as exc:
                    ctx.accept("wecom", f"wecom-archive-seq:{item.seq}", item.record, None,
                               unsupported_reason=f"bad archive record: {exc}")
            for m in page.media:
                wecom_store.save_media(ctx.store, m.sdkfileid, m.msgid, m.path, m.md5, m.size, now)
            if undecrypted:
                kv.put(ctx.store, UNDECRYPTED_KEY, json.dumps(self._json_list(UNDECRYPTED_KEY) + undecrypted))
            if page.media_errors:
                known = {p.get("sdkfileid") for p in self._json_list(MEDIA_PENDING_KEY) if isinstance(p, dict)}
                fresh = [{"sdkfileid": f.sdkfileid, "msgid": f.msgid, "md5": f.md5, "ext": f.ext, "attempts": 1,
                          "error": f.error} for f in page.media_errors if f.sdkfileid not in known]
                kv.put(ctx.store, MEDIA_PENDING_KEY, json.dumps(self._json_list(MEDIA_PENDING_KEY) + fresh))
            if page.max_seq > self.checkpoint():
                kv.put(ctx.store, CHECKPOINT_KEY, str(page.max_seq))
        for err in page.media_errors:
            log.warning("wecom archive media of %s: %s (will be fetched again)", err.msgid, err.error)

    async def pull_all(self, max_pages: int = 1_000_000) -> int:
        """Page until a short page says we are caught up."""
        total = 0
        for _ in range(max_pages):
            n = await self.pull_once()
            total += n
            if n < self.limit:
                break
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """The serve loop: catch up, then poll every archive_poll_s (WeCom keeps data only ~5 days)."""
        delay = self.poll_s
        while not stop.is_set():
            try:
                await self.pull_all()
                delay = self.poll_s
            except ConfigError as exc:
                log.error("wecom archive puller stopped: %s", exc)
                return
            except (PlatformError, OSError) as exc:
                self.errors += 1
                log.error("wecom archive pull failed: %s", exc)
                if isinstance(exc, PlatformError) and exc.permanent:
                    return
                delay = min(delay * 2, 600.0)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()
            self._sdk = None
