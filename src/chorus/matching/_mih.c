/* Multi-index hashing core for chorus.matching.pdq_index (plain C99, CPython API).
 *
 * Two functions, both over buffers owned by Python (numpy arrays, possibly memory-mapped):
 *
 *   build(codes, positions, bits, base, offsets_out, rows_out)
 *       counting-sorts the rows of `codes` by each chunk's key into CSR tables;
 *   search(queries, codes, ids, removed, lut, lut_bytes, bits, base, offsets, rows,
 *          delta_codes, delta_ids, radius, scan_factor) -> list[list[tuple[int, int]]]
 *       every entry within `radius`, as (id, distance) sorted by distance then id.
 *
 * Layout (see the Python module for the exactness argument): m chunks; chunk j has bits[j]
 * bits, at positions[j][0..bits[j]) of the code (bit 0 = most significant bit of byte 0),
 * the first one the key's most significant bit. The build reads them one by one; a query
 * uses the equivalent tables: OR over the bytes listed in lut_bytes[j] of
 * lut[j][byte][code[byte]]. offsets[base[j] + key] .. offsets[base[j] + key + 1] is the range
 * of rows[j * n ...] holding the rows whose chunk j equals key. The GIL is released while a
 * query is computed. Distances are popcounts of XORed 64-bit words (byte order does not
 * matter for a popcount).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && !defined(__POPCNT__)
#pragma GCC target("popcnt") /* x86-64-v2, the same baseline numpy 2 requires */
#endif

#define CODE_BYTES 32
#define MAX_CHUNKS 64
#define LUT_STRIDE (32 * 256)
#define AHEAD 12
#define RANGE_MAX 0xFFFFFFu /* longest bucket piece: 24 bits of length */

typedef struct {
    int m;
    const uint32_t *lut;
    const int32_t *lut_bytes; /* m x 33: count, then byte indices */
    const int32_t *bits;
    const int64_t *base;
    const uint32_t *offsets;
    const uint32_t *rows;
    const uint8_t *codes;
    const int64_t *ids;
    const uint8_t *removed;
    uint64_t n;
    const uint8_t *dcodes;
    const int64_t *dids;
    uint64_t dn;
    int order[MAX_CHUNKS]; /* chunks by width, narrowest first */
} index_t;

typedef struct {
    int64_t id;
    int64_t dist;
} hit_t;

typedef struct {
    uint64_t *probes;
    size_t nprobes, cap_probes;
    uint64_t *ranges;
    size_t cap_ranges;
    uint32_t *cands;
    size_t ncands, cap_cands;
    hit_t *hits;
    size_t nhits, cap_hits;
} work_t;

static int reserve(void **data, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*data, cap2 * elem);
    if (!p) return -1;
    *data = p;
    *cap = cap2;
    return 0;
}

static inline uint32_t chunk_key(const index_t *ix, int j, const uint8_t *code) {
    const int32_t *lb = ix->lut_bytes + (size_t)j * 33;
    const uint32_t *t = ix->lut + (size_t)j * LUT_STRIDE;
    uint32_t key = 0;
    for (int i = 0; i < lb[0]; i++) {
        int b = lb[1 + i];
        key |= t[b * 256 + code[b]];
    }
    return key;
}

/* The key of chunk j from the code's big-endian words, one bit per position (MSB first). */
static inline uint32_t key_from_bits(const int32_t *pos, int width, const uint64_t be[4]) {
    uint32_t key = 0;
    for (int i = 0; i < width; i++)
        key = (key << 1) | (uint32_t)((be[pos[i] >> 6] >> (63 - (pos[i] & 63))) & 1);
    return key;
}

static inline void load_be(const uint8_t *code, uint64_t be[4]) {
    memcpy(be, code, CODE_BYTES);
    for (int k = 0; k < 4; k++) be[k] = __builtin_bswap64(be[k]);
}

static inline int64_t distance(const uint64_t q[4], const uint8_t *code) {
    uint64_t c[4];
    memcpy(c, code, CODE_BYTES);
    return __builtin_popcountll(q[0] ^ c[0]) + __builtin_popcountll(q[1] ^ c[1]) +
           __builtin_popcountll(q[2] ^ c[2]) + __builtin_popcountll(q[3] ^ c[3]);
}

/* Number of keys within Hamming distance t of a key of b bits. */
static double ball(int b, int t) {
    double total = 0.0, term = 1.0;
    for (int w = 0; w <= t && w <= b; w++) {
        total += term;
        term = term * (double)(b - w) / (double)(w + 1);
    }
    return total;
}

static int push_hit(work_t *w, int64_t id, int64_t dist) {
    if (reserve((void **)&w->hits, &w->cap_hits, w->nhits + 1, sizeof(hit_t))) return -1;
    w->hits[w->nhits].id = id;
    w->hits[w->nhits].dist = dist;
    w->nhits++;
    return 0;
}

static int cmp_hit(const void *a, const void *b) {
    const hit_t *x = a, *y = b;
    if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Push every key of width b within distance t of key (masks by Gosper's hack). */
static int push_ball(work_t *w, uint64_t offset, uint32_t key, int b, int t) {
    size_t count = (size_t)ball(b, t);
    if (reserve((void **)&w->probes, &w->cap_probes, w->nprobes + count, sizeof(uint64_t)))
        return -1;
    uint64_t *out = w->probes + w->nprobes;
    uint64_t limit = (uint64_t)1 << b;
    size_t k = 0;
    out[k++] = offset + key;
    for (int weight = 1; weight <= t && weight <= b; weight++) {
        uint64_t v = ((uint64_t)1 << weight) - 1;
        while (v < limit) {
            out[k++] = offset + (key ^ (uint32_t)v);
            uint64_t low = v & (~v + 1), ripple = v + low;
            v = (((ripple ^ v) >> 2) / low) | ripple;
        }
    }
    w->nprobes += k;
    return 0;
}

static int search_main_mih(const index_t *ix, const uint8_t *q, const uint64_t qw[4], int r,
                           const int *radii, work_t *w) {
    size_t starts[MAX_CHUNKS + 1];
    w->nprobes = 0;
    for (int j = 0; j < ix->m; j++) {
        starts[j] = w->nprobes;
        if (radii[j] >= 0 &&
            push_ball(w, (uint64_t)ix->base[j], chunk_key(ix, j, q), ix->bits[j], radii[j]))
            return -1;
    }
    starts[ix->m] = w->nprobes;
    /* Non-empty buckets as (start in rows) << 24 | length, long buckets in several pieces;
     * then the rows of bucket i + AHEAD are prefetched while bucket i is read. */
    size_t nranges = 0, total = 0;
    for (int j = 0; j < ix->m; j++) {
        uint64_t row_base = (uint64_t)j * ix->n;
        for (size_t i = starts[j]; i < starts[j + 1]; i++) {
            if (i + AHEAD < w->nprobes) __builtin_prefetch(ix->offsets + w->probes[i + AHEAD]);
            uint64_t p = w->probes[i];
            uint64_t lo = ix->offsets[p], hi = ix->offsets[p + 1];
            total += hi > lo ? hi - lo : 0;
            for (; lo < hi; lo += RANGE_MAX) {
                uint64_t len = hi - lo < RANGE_MAX ? hi - lo : RANGE_MAX;
                if (reserve((void **)&w->ranges, &w->cap_ranges, nranges + 1, sizeof(uint64_t)))
                    return -1;
                w->ranges[nranges++] = ((row_base + lo) << 24) | len;
            }
        }
    }
    if (reserve((void **)&w->cands, &w->cap_cands, total, sizeof(uint32_t))) return -1;
    w->ncands = 0;
    for (size_t i = 0; i < nranges; i++) {
        if (i + AHEAD < nranges) __builtin_prefetch(ix->rows + (w->ranges[i + AHEAD] >> 24));
        uint64_t start = w->ranges[i] >> 24, len = w->ranges[i] & RANGE_MAX;
        for (uint64_t k = 0; k < len; k++) {
            uint32_t row = ix->rows[start + k];
            __builtin_prefetch(ix->codes + (size_t)row * CODE_BYTES);
            w->cands[w->ncands++] = row;
        }
    }
    for (size_t i = 0; i < w->ncands; i++) {
        if (i + AHEAD < w->ncands)
            __builtin_prefetch(ix->codes + (size_t)w->cands[i + AHEAD] * CODE_BYTES);
        uint32_t row = w->cands[i];
        int64_t d = distance(qw, ix->codes + (size_t)row * CODE_BYTES);
        if (d <= r && !ix->removed[row] && push_hit(w, ix->ids[row], d)) return -1;
    }
    return 0;
}

static int search_one(const index_t *ix, const uint8_t *q, int r, double scan_factor,
                      work_t *w) {
    uint64_t qw[4];
    memcpy(qw, q, CODE_BYTES);
    w->nhits = 0;
    if (ix->n > 0) {
        /* r = s*m + a: a+1 chunks (the narrowest) at radius s, the others at s-1. */
        int radii[MAX_CHUNKS];
        int s = r / ix->m, a = r % ix->m;
        double probes = 0.0, cands = 0.0;
        for (int i = 0; i < ix->m; i++) {
            int j = ix->order[i];
            radii[j] = i <= a ? s : s - 1;
            if (radii[j] >= 0) {
                double keys = ball(ix->bits[j], radii[j]);
                probes += keys;
                cands += keys * (double)ix->n / (double)((uint64_t)1 << ix->bits[j]);
            }
        }
        if (scan_factor * (probes + cands) > (double)ix->n) {
            for (uint64_t row = 0; row < ix->n; row++) {
                int64_t d = distance(qw, ix->codes + row * CODE_BYTES);
                if (d <= r && !ix->removed[row] && push_hit(w, ix->ids[row], d)) return -1;
            }
        } else if (search_main_mih(ix, q, qw, r, radii, w)) {
            return -1;
        }
    }
    for (uint64_t i = 0; i < ix->dn; i++) {
        int64_t d = distance(qw, ix->dcodes + i * CODE_BYTES);
        if (d <= r && push_hit(w, ix->dids[i], d)) return -1;
    }
    qsort(w->hits, w->nhits, sizeof(hit_t), cmp_hit);
    size_t kept = 0; /* a row found through several chunks appears once */
    for (size_t i = 0; i < w->nhits; i++)
        if (kept == 0 || w->hits[kept - 1].id != w->hits[i].id) w->hits[kept++] = w->hits[i];
    w->nhits = kept;
    return 0;
}

/* Buffers and their checks. */

typedef struct {
    Py_buffer b[12];
    int held;
} buffers_t;

static void release_all(buffers_t *bs) {
    for (int i = 0; i < bs->held; i++) PyBuffer_Release(&bs->b[i]);
    bs->held = 0;
}

static int expect(int ok, const char *what) {
    if (!ok) PyErr_Format(PyExc_ValueError, "_mih: inconsistent %s buffer", what);
    return ok;
}

/* Fill the table part of ix from the lut/lut_bytes/bits/base buffers; check sizes. */
static int setup_tables(index_t *ix, Py_buffer *lut, Py_buffer *lut_bytes, Py_buffer *bits,
                        Py_buffer *base, Py_ssize_t offsets_len) {
    Py_ssize_t m = bits->len / 4;
    if (!expect(m >= 1 && m <= MAX_CHUNKS && bits->len == m * 4, "bits") ||
        !expect(lut->len == m * LUT_STRIDE * 4, "lut") ||
        !expect(lut_bytes->len == m * 33 * 4, "lut_bytes") || !expect(base->len == m * 8, "base"))
        return -1;
    ix->m = (int)m;
    ix->lut = lut->buf;
    ix->lut_bytes = lut_bytes->buf;
    ix->bits = bits->buf;
    ix->base = base->buf;
    for (int j = 0; j < ix->m; j++) {
        const int32_t *lb = ix->lut_bytes + (size_t)j * 33;
        if (!expect(ix->bits[j] >= 1 && ix->bits[j] <= 30, "bits") ||
            !expect(lb[0] >= 0 && lb[0] <= 32, "lut_bytes") ||
            !expect(ix->base[j] >= 0 && ix->base[j] + ((int64_t)1 << ix->bits[j]) + 1 <=
                                            (int64_t)(offsets_len / 4),
                    "offsets"))
            return -1;
        for (int i = 0; i < lb[0]; i++)
            if (!expect(lb[1 + i] >= 0 && lb[1 + i] < 32, "lut_bytes")) return -1;
    }
    for (int i = 0; i < ix->m; i++) ix->order[i] = i;
    for (int i = 1; i < ix->m; i++) /* insertion sort by width, stable */
        for (int k = i; k > 0 && ix->bits[ix->order[k]] < ix->bits[ix->order[k - 1]]; k--) {
            int t = ix->order[k];
            ix->order[k] = ix->order[k - 1];
            ix->order[k - 1] = t;
        }
    return 0;
}

/* build(codes, positions, bits, base, offsets_out, rows_out): positions is m x 32 int32,
 * chunk j's bit positions (most significant key bit first) in its first bits[j] entries. */
static PyObject *py_build(PyObject *self, PyObject *args) {
    buffers_t bs = {.held = 0};
    Py_buffer *b = bs.b;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]))
        return NULL;
    bs.held = 6;
    const uint8_t *codes = b[0].buf;
    const int32_t *positions = b[1].buf, *bits = b[2].buf;
    const int64_t *base = b[3].buf;
    uint32_t *offsets = b[4].buf, *rows = b[5].buf;
    uint64_t n = (uint64_t)(b[0].len / CODE_BYTES);
    Py_ssize_t m = b[2].len / 4;
    int ok = expect(b[0].len % CODE_BYTES == 0 && n < UINT32_MAX, "codes") &&
             expect(m >= 1 && m <= MAX_CHUNKS && b[2].len == m * 4, "bits") &&
             expect(b[1].len == m * 32 * 4, "positions") && expect(b[3].len == m * 8, "base") &&
             expect(b[5].len == (Py_ssize_t)(n * m * 4), "rows");
    for (Py_ssize_t j = 0; ok && j < m; j++) {
        ok = expect(bits[j] >= 1 && bits[j] <= 30, "bits") &&
             expect(base[j] >= 0 && base[j] + ((int64_t)1 << bits[j]) + 1 <= b[4].len / 4,
                    "offsets");
        for (int i = 0; ok && i < bits[j]; i++)
            ok = expect(positions[j * 32 + i] >= 0 && positions[j * 32 + i] < 256, "positions");
    }
    if (!ok) {
        release_all(&bs);
        return NULL;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS;
    uint32_t *keys = malloc((n ? n : 1) * sizeof(uint32_t));
    for (Py_ssize_t j = 0; j < m && keys && !failed; j++) {
        uint64_t size = (uint64_t)1 << bits[j];
        uint32_t *off = offsets + base[j], *out = rows + (size_t)j * n;
        memset(off, 0, (size + 1) * sizeof(uint32_t));
        for (uint64_t row = 0; row < n; row++) {
            uint64_t be[4];
            load_be(codes + row * CODE_BYTES, be);
            keys[row] = key_from_bits(positions + j * 32, bits[j], be);
        }
        /* Counting in a loop of its own: its random increments then overlap (5x faster). */
        for (uint64_t row = 0; row < n; row++) off[keys[row] + 1]++;
        for (uint64_t k = 1; k <= size; k++) off[k] += off[k - 1]; /* off[k]: start of k */
        /* Scatter with off[k] as the cursor (it ends at the start of k+1), then shift back:
         * no second table-sized array, and off lives in numpy's huge pages. */
        for (uint64_t row = 0; row < n; row++) out[off[keys[row]]++] = (uint32_t)row;
        memmove(off + 1, off, (size - 1) * sizeof(uint32_t));
        off[0] = 0;
    }
    if (!keys) failed = 1;
    free(keys);
    Py_END_ALLOW_THREADS;
    release_all(&bs);
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *hits_to_list(const work_t *w) {
    PyObject *list = PyList_New((Py_ssize_t)w->nhits);
    if (!list) return NULL;
    for (size_t i = 0; i < w->nhits; i++) {
        PyObject *pair = Py_BuildValue("(LL)", (long long)w->hits[i].id,
                                       (long long)w->hits[i].dist);
        if (!pair) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
    }
    return list;
}

static PyObject *py_search(PyObject *self, PyObject *args) {
    buffers_t bs = {.held = 0};
    Py_buffer *b = bs.b;
    int radius;
    double scan_factor;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*y*id", &b[0], &b[1], &b[2], &b[3],
                          &b[4], &b[5], &b[6], &b[7], &b[8], &b[9], &b[10], &b[11], &radius,
                          &scan_factor))
        return NULL;
    bs.held = 12;
    index_t ix;
    memset(&ix, 0, sizeof ix);
    ix.codes = b[1].buf;
    ix.n = (uint64_t)(b[1].len / CODE_BYTES);
    ix.ids = b[2].buf;
    ix.removed = b[3].buf;
    ix.offsets = b[8].buf;
    ix.rows = b[9].buf;
    ix.dcodes = b[10].buf;
    ix.dn = (uint64_t)(b[10].len / CODE_BYTES);
    ix.dids = b[11].buf;
    Py_ssize_t nq = b[0].len / CODE_BYTES;
    const uint8_t *queries = b[0].buf;
    if (!expect(b[0].len % CODE_BYTES == 0, "queries") ||
        !expect(b[1].len % CODE_BYTES == 0, "codes") ||
        !expect(b[2].len == (Py_ssize_t)(ix.n * 8), "ids") ||
        !expect(b[3].len == (Py_ssize_t)ix.n, "removed") ||
        setup_tables(&ix, &b[4], &b[5], &b[6], &b[7], b[8].len) ||
        !expect(b[9].len == (Py_ssize_t)(ix.n * ix.m * 4), "rows") ||
        !expect(b[10].len % CODE_BYTES == 0 && b[11].len == (Py_ssize_t)(ix.dn * 8), "delta") ||
        !expect(radius >= 0 && radius <= 256, "radius")) {
        release_all(&bs);
        return NULL;
    }
    work_t w;
    memset(&w, 0, sizeof w);
    PyObject *out = PyList_New(nq);
    for (Py_ssize_t i = 0; out && i < nq; i++) {
        int failed;
        Py_BEGIN_ALLOW_THREADS;
        failed = search_one(&ix, queries + i * CODE_BYTES, radius, scan_factor, &w);
        Py_END_ALLOW_THREADS;
        PyObject *hits = failed ? PyErr_NoMemory() : hits_to_list(&w);
        if (!hits) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, hits);
    }
    free(w.probes);
    free(w.ranges);
    free(w.cands);
    free(w.hits);
    release_all(&bs);
    return out;
}

static PyMethodDef methods[] = {
    {"build", py_build, METH_VARARGS, "Counting-sort rows into per-chunk CSR tables."},
    {"search", py_search, METH_VARARGS, "Every entry within the radius of each query."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT,
                                    "_mih",
                                    "Multi-index hashing core for PDQ range search.",
                                    -1,
                                    methods,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL};

PyMODINIT_FUNC PyInit__mih(void) { return PyModule_Create(&module); }
