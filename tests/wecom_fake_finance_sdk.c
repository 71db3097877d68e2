/* A stand-in for libWeWorkFinanceSdk_C.so with the same exported C interface, compiled by the archive tests.
 *
 * Data comes from the directory named by $WWFAKE_DIR:
 *   secret             the archive secret Init must be given
 *   chat.txt           one "SEQ<TAB>{chatdata json object}" per line, ascending seq
 *   media/<sdkfileid>  the bytes GetMediaData serves, 512 KB per call (indexbuf = decimal offset)
 * DecryptData's "encryption" is hex(plaintext XOR random_key) — the real one is opaque, the contract is the same.
 * FakeStat(name) exposes counters so tests can check paging and that every handle was freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *buf; int len; } Slice_t;
typedef struct { char *outindexbuf; int out_len; char *data; int data_len; int is_finish; } MediaData_t;
typedef struct { int inited; char dir[1024]; } WeWorkFinanceSdk_t;

static long live_slices = 0, live_media = 0, chat_calls = 0, media_calls = 0;
static unsigned long long last_seq = 0;
static unsigned int last_limit = 0;

long FakeStat(const char *name) {
    if (!strcmp(name, "live_slices")) return live_slices;
    if (!strcmp(name, "live_media")) return live_media;
    if (!strcmp(name, "chat_calls")) return chat_calls;
    if (!strcmp(name, "media_calls")) return media_calls;
    if (!strcmp(name, "last_seq")) return (long)last_seq;
    if (!strcmp(name, "last_limit")) return (long)last_limit;
    return -1;
}

WeWorkFinanceSdk_t *NewSdk(void) {
    WeWorkFinanceSdk_t *sdk = calloc(1, sizeof(WeWorkFinanceSdk_t));
    const char *dir = getenv("WWFAKE_DIR");
    snprintf(sdk->dir, sizeof(sdk->dir), "%s", dir ? dir : ".");
    return sdk;
}

void DestroySdk(WeWorkFinanceSdk_t *sdk) { free(sdk); }

static char *read_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    if (fread(buf, 1, n, f) != (size_t)n) { fclose(f); free(buf); return NULL; }
    fclose(f);
    buf[n] = 0;
    *size = n;
    return buf;
}

int Init(WeWorkFinanceSdk_t *sdk, const char *corpid, const char *secret) {
    char path[1200];
    long n = 0;
    snprintf(path, sizeof(path), "%s/secret", sdk->dir);
    char *want = read_file(path, &n);
    if (!want) return 10002;
    while (n > 0 && (want[n - 1] == '\n' || want[n - 1] == '\r')) want[--n] = 0;
    int ok = corpid && corpid[0] && secret && !strcmp(want, secret);
    free(want);
    if (!ok) return 10001;
    sdk->inited = 1;
    return 0;
}

Slice_t *NewSlice(void) { live_slices++; return calloc(1, sizeof(Slice_t)); }
void FreeSlice(Slice_t *s) { if (s) { free(s->buf); free(s); live_slices--; } }
char *GetContentFromSlice(Slice_t *s) { return s->buf; }
int GetSliceLen(Slice_t *s) { return s->len; }

static void set_slice(Slice_t *s, const char *data, int len) {
    free(s->buf);
    s->buf = malloc(len + 1);
    memcpy(s->buf, data, len);
    s->buf[len] = 0;
    s->len = len;
}

int GetChatData(WeWorkFinanceSdk_t *sdk, unsigned long long seq, unsigned int limit, const char *proxy,
                const char *passwd, int timeout, Slice_t *out) {
    (void)proxy; (void)passwd; (void)timeout;
    if (!sdk->inited) return 10003;
    chat_calls++;
    last_seq = seq;
    last_limit = limit;
    char path[1200];
    long n = 0;
    snprintf(path, sizeof(path), "%s/chat.txt", sdk->dir);
    char *all = read_file(path, &n);
    size_t cap = n + 128, len = 0;
    char *json = malloc(cap);
    len += sprintf(json, "{\"errcode\":0,\"errmsg\":\"ok\",\"chatdata\":[");
    unsigned int taken = 0;
    char *line = all ? strtok(all, "\n") : NULL;
    while (line && taken < limit) {
        char *tab = strchr(line, '\t');
        if (tab && strtoull(line, NULL, 10) > seq) {
            size_t l = strlen(tab + 1);
            if (taken) json[len++] = ',';
            memcpy(json + len, tab + 1, l);
            len += l;
            taken++;
        }
        line = strtok(NULL, "\n");
    }
    len += sprintf(json + len, "]}");
    set_slice(out, json, (int)len);
    free(json);
    free(all);
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int DecryptData(const char *key, const char *msg, Slice_t *out) {
    size_t kl = strlen(key), ml = strlen(msg);
    if (!kl || ml % 2) return 10004;
    char *plain = malloc(ml / 2 + 1);
    for (size_t i = 0; i < ml / 2; i++) {
        int hi = hexval(msg[2 * i]), lo = hexval(msg[2 * i + 1]);
        if (hi < 0 || lo < 0) { free(plain); return 10004; }
        plain[i] = (char)(((hi << 4) | lo) ^ key[i % kl]);
    }
    set_slice(out, plain, (int)(ml / 2));
    free(plain);
    return 0;
}

MediaData_t *NewMediaData(void) { live_media++; return calloc(1, sizeof(MediaData_t)); }
void FreeMediaData(MediaData_t *m) { if (m) { free(m->outindexbuf); free(m->data); free(m); live_media--; } }
char *GetOutIndexBuf(MediaData_t *m) { return m->outindexbuf; }
char *GetData(MediaData_t *m) { return m->data; }
int GetIndexLen(MediaData_t *m) { return m->out_len; }
int GetDataLen(MediaData_t *m) { return m->data_len; }
int IsMediaDataFinish(MediaData_t *m) { return m->is_finish; }

#define SLICE (512 * 1024)

int GetMediaData(WeWorkFinanceSdk_t *sdk, const char *indexbuf, const char *sdkfileid, const char *proxy,
                 const char *passwd, int timeout, MediaData_t *m) {
    (void)proxy; (void)passwd; (void)timeout;
    if (!sdk->inited) return 10003;
    media_calls++;
    char path[1400];
    long n = 0;
    snprintf(path, sizeof(path), "%s/media/%s", sdk->dir, sdkfileid);
    char *all = read_file(path, &n);
    if (!all) return 10005;
    long off = (indexbuf && indexbuf[0]) ? atol(indexbuf) : 0;
    long take = n - off < SLICE ? n - off : SLICE;
    if (take < 0) take = 0;
    free(m->data);
    free(m->outindexbuf);
    m->data = malloc(take + 1);
    memcpy(m->data, all + off, take);
    m->data_len = (int)take;
    m->outindexbuf = malloc(32);
    m->out_len = sprintf(m->outindexbuf, "%ld", off + take);
    m->is_finish = off + take >= n;
    free(all);
    return 0;
}
