/* seccomp_compact.c: a seccomp filter rewritten as a search over ranges of
 * syscall numbers.
 *
 * libseccomp's binary tree tests docker's profile one syscall number at a
 * time: 1246 instructions for the three x86 architectures.  The kernel
 * converts, JIT-compiles and (for its per-syscall cache) runs a filter when it
 * is loaded, at a cost that grows with its length, and every container's init
 * pays that on its way to the exec: ~0.3 ms of CPU here.  The numbers a
 * profile allows come in long runs, so the same decisions fit in a binary
 * search over ranges, a third of the size.
 *
 * libseccomp stays the judge of what a profile means (names to numbers per
 * architecture, socketcall and ipc multiplexing, the halves of 64-bit
 * arguments): this pass reads its program, not the profile.  It runs the
 * program symbolically, the architecture and the syscall number as intervals
 * and the arguments unknown, which splits the (arch, nr) plane into boxes that
 * each take one path; what is left of the program in a box is a tree of
 * argument tests, usually a bare return.  Neighbouring numbers with the same
 * tree merge into ranges, and the program is emitted again: the architecture
 * tested, a binary search over the ranges of numbers, the argument tests at
 * the leaves.
 *
 * It gives up, and the caller keeps libseccomp's program, on any instruction
 * outside the few libseccomp emits, on a result no shorter, and on any
 * disagreement with the original (both run on rt_bpf_run) at the corners of
 * every box and at the argument values its tests compare with. */
#include "runtime/internal.h"

#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BOXES 65536
#define MAX_NODES 4096
#define MAX_STEPS 2000000
#define MAX_JUMP  255 /* a conditional jump's reach */

/* ---- the interpreter ---- */

static uint32_t load_word(const struct seccomp_data *d, uint32_t off)
{
    uint32_t v;
    memcpy(&v, (const char *)d + off, sizeof(v));
    return v;
}

static bool jump_taken(uint16_t code, uint32_t a, uint32_t k)
{
    switch (BPF_OP(code)) {
    case BPF_JEQ:
        return a == k;
    case BPF_JGT:
        return a > k;
    case BPF_JGE:
        return a >= k;
    default: /* BPF_JSET */
        return (a & k) != 0;
    }
}

static bool alu(uint16_t op, uint32_t *a, uint32_t v)
{
    switch (op) {
    case BPF_ADD:
        *a += v;
        break;
    case BPF_SUB:
        *a -= v;
        break;
    case BPF_MUL:
        *a *= v;
        break;
    case BPF_DIV:
        if (v == 0)
            return false;
        *a /= v;
        break;
    case BPF_MOD:
        if (v == 0)
            return false;
        *a %= v;
        break;
    case BPF_OR:
        *a |= v;
        break;
    case BPF_AND:
        *a &= v;
        break;
    case BPF_XOR:
        *a ^= v;
        break;
    case BPF_LSH:
        *a = v < 32 ? *a << v : 0;
        break;
    case BPF_RSH:
        *a = v < 32 ? *a >> v : 0;
        break;
    case BPF_NEG:
        *a = -*a;
        break;
    default:
        return false;
    }
    return true;
}

int rt_bpf_run(const struct sock_fprog *prog, const struct seccomp_data *d, uint32_t *ret)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    for (size_t pc = 0; pc < prog->len; pc++) {
        const struct sock_filter *i = &prog->filter[pc];
        uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
        switch (BPF_CLASS(i->code)) {
        case BPF_LD:
        case BPF_LDX: {
            uint32_t v;
            if (BPF_MODE(i->code) == BPF_ABS && BPF_SIZE(i->code) == BPF_W && i->k % 4 == 0 &&
                i->k < sizeof(*d))
                v = load_word(d, i->k);
            else if (BPF_MODE(i->code) == BPF_IMM)
                v = i->k;
            else if (BPF_MODE(i->code) == BPF_MEM && i->k < BPF_MEMWORDS)
                v = mem[i->k];
            else
                return -1;
            *(BPF_CLASS(i->code) == BPF_LD ? &a : &x) = v;
            break;
        }
        case BPF_ST:
        case BPF_STX:
            if (i->k >= BPF_MEMWORDS)
                return -1;
            mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
            break;
        case BPF_ALU:
            if (!alu(BPF_OP(i->code), &a, src))
                return -1; /* the kernel refuses a constant 0 divisor, and returns 0 for X */
            break;
        case BPF_JMP:
            if (BPF_OP(i->code) == BPF_JA)
                pc += i->k;
            else if (BPF_OP(i->code) <= BPF_JSET)
                pc += jump_taken(i->code, a, src) ? i->jt : i->jf;
            else
                return -1;
            break;
        case BPF_RET:
            *ret = BPF_RVAL(i->code) == BPF_A ? a : i->k;
            return 0;
        default: /* BPF_MISC */
            if (BPF_MISCOP(i->code) == BPF_TAX)
                x = a;
            else
                a = x;
            break;
        }
    }
    return -1; /* ran off the end */
}

/* ---- the symbolic run ---- */

struct iv {
    uint32_t lo, hi; /* inclusive */
};

/* What is left of the program once arch and nr are known: a return, or
 * "A = (word at off) & mask; jump on A" with a subtree each way. */
struct node {
    uint16_t code;
    uint8_t off;
    uint32_t mask, k;
    int t, f;
    long emitted; /* where its code is in the output, counted from the end; -1: not yet */
};

struct box {
    struct iv arch, nr;
    int node;
};

/* A on one path: a constant, the architecture, the number, or an argument
 * word under a mask; with what the path has learnt of arch and nr. */
struct sym {
    enum { A_CONST, A_ARCH, A_NR, A_WORD } kind;
    uint32_t c;
    uint8_t off;
    uint32_t mask;
    struct iv arch, nr;
};

struct range {
    uint32_t lo;
    int what; /* a node, or for the architectures a section */
};

struct section {
    struct range *r;
    size_t n;
};

struct compact {
    const struct sock_fprog *in;
    struct node nodes[MAX_NODES];
    int n_nodes;
    struct box *boxes;
    size_t n_boxes, cap_boxes;
    long steps;
    bool failed;
    struct sock_filter *out; /* built from its last instruction back */
    long n_out;
};

static int intern(struct compact *c, struct node n)
{
    for (int i = 0; i < c->n_nodes; i++) {
        const struct node *o = &c->nodes[i];
        if (o->code == n.code && o->off == n.off && o->mask == n.mask && o->k == n.k &&
            o->t == n.t && o->f == n.f)
            return i;
    }
    if (c->n_nodes == MAX_NODES) {
        c->failed = true;
        return 0;
    }
    n.emitted = -1;
    c->nodes[c->n_nodes] = n;
    return c->n_nodes++;
}

static void add_box(struct compact *c, struct iv arch, struct iv nr, int node)
{
    if (c->n_boxes == MAX_BOXES) {
        c->failed = true;
        return;
    }
    if (c->n_boxes == c->cap_boxes) {
        c->cap_boxes = c->cap_boxes ? c->cap_boxes * 2 : 256;
        c->boxes = xrealloc(c->boxes, c->cap_boxes * sizeof(*c->boxes));
    }
    c->boxes[c->n_boxes++] = (struct box){arch, nr, node};
}

static void explore(struct compact *c, size_t pc, struct sym s);

/* A jump on the architecture or the number: each part of the interval goes
 * its own way. */
static void split(struct compact *c, const struct sock_filter *i, size_t t, size_t f, struct sym s)
{
    struct iv *v = s.kind == A_ARCH ? &s.arch : &s.nr, all = *v;
    uint32_t k = i->k;
    struct {
        bool ok;
        struct iv iv;
        bool taken;
    } parts[3] = {{false}};
    switch (BPF_OP(i->code)) {
    case BPF_JEQ:
        if (k < all.lo || k > all.hi) {
            parts[0].ok = true, parts[0].iv = all;
            break;
        }
        parts[0].ok = all.lo < k, parts[0].iv = (struct iv){all.lo, k - 1};
        parts[1].ok = true, parts[1].iv = (struct iv){k, k}, parts[1].taken = true;
        parts[2].ok = k < all.hi, parts[2].iv = (struct iv){k + 1, all.hi};
        break;
    case BPF_JGT: /* A > k */
        parts[0].ok = all.lo <= k, parts[0].iv = (struct iv){all.lo, k < all.hi ? k : all.hi};
        parts[1].ok = k < all.hi, parts[1].iv = (struct iv){k >= all.lo ? k + 1 : all.lo, all.hi};
        parts[1].taken = true;
        break;
    case BPF_JGE: /* A >= k */
        parts[0].ok = all.lo < k,
        parts[0].iv = (struct iv){all.lo, k - 1 < all.hi ? k - 1 : all.hi};
        parts[1].ok = k <= all.hi, parts[1].iv = (struct iv){k > all.lo ? k : all.lo, all.hi};
        parts[1].taken = true;
        break;
    default: /* a bit test on a number splits it into more than intervals */
        c->failed = true;
        return;
    }
    for (int p = 0; p < 3 && !c->failed; p++) {
        if (!parts[p].ok)
            continue;
        *v = parts[p].iv;
        explore(c, parts[p].taken ? t : f, s);
    }
}

/* A jump on an argument: both ways are explored over the same box, and
 * their boxes are overlaid, each piece holding a test of the two. */
static void fork_on_word(struct compact *c, const struct sock_filter *i, size_t t, size_t f,
                         struct sym s)
{
    size_t start = c->n_boxes;
    explore(c, t, s);
    size_t mid = c->n_boxes;
    explore(c, f, s);
    size_t end = c->n_boxes;
    for (size_t a = start; a < mid && !c->failed; a++) {
        for (size_t b = mid; b < end && !c->failed; b++) {
            /* Copies: add_box may move the array. */
            struct box x = c->boxes[a], y = c->boxes[b];
            struct iv arch = {x.arch.lo > y.arch.lo ? x.arch.lo : y.arch.lo,
                              x.arch.hi < y.arch.hi ? x.arch.hi : y.arch.hi};
            struct iv nr = {x.nr.lo > y.nr.lo ? x.nr.lo : y.nr.lo,
                            x.nr.hi < y.nr.hi ? x.nr.hi : y.nr.hi};
            if (arch.lo > arch.hi || nr.lo > nr.hi)
                continue;
            int node = x.node == y.node ? x.node
                                        : intern(c, (struct node){.code = i->code,
                                                                  .off = s.off,
                                                                  .mask = s.mask,
                                                                  .k = i->k,
                                                                  .t = x.node,
                                                                  .f = y.node});
            add_box(c, arch, nr, node);
        }
    }
    if (c->failed)
        return;
    size_t made = c->n_boxes - end;
    memmove(&c->boxes[start], &c->boxes[end], made * sizeof(*c->boxes));
    c->n_boxes = start + made;
}

static void explore(struct compact *c, size_t pc, struct sym s)
{
    while (!c->failed) {
        if (pc >= c->in->len || ++c->steps > MAX_STEPS)
            break;
        const struct sock_filter *i = &c->in->filter[pc];
        switch (i->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (i->k == offsetof(struct seccomp_data, nr)) {
                s.kind = A_NR;
            } else if (i->k == offsetof(struct seccomp_data, arch)) {
                s.kind = A_ARCH;
            } else if (i->k >= offsetof(struct seccomp_data, instruction_pointer) &&
                       i->k < sizeof(struct seccomp_data) && i->k % 4 == 0) {
                s.kind = A_WORD;
                s.off = (uint8_t)i->k;
                s.mask = UINT32_MAX;
            } else {
                c->failed = true;
                return;
            }
            pc++;
            continue;
        case BPF_ALU | BPF_AND | BPF_K:
            if (s.kind == A_CONST)
                s.c &= i->k;
            else if (s.kind == A_WORD)
                s.mask &= i->k;
            else
                break;
            pc++;
            continue;
        case BPF_JMP | BPF_JA:
            if (i->k >= c->in->len)
                break;
            pc += 1 + i->k;
            continue;
        case BPF_JMP | BPF_JEQ | BPF_K:
        case BPF_JMP | BPF_JGT | BPF_K:
        case BPF_JMP | BPF_JGE | BPF_K:
        case BPF_JMP | BPF_JSET | BPF_K: {
            size_t t = pc + 1 + i->jt, f = pc + 1 + i->jf;
            if (s.kind == A_CONST)
                pc = jump_taken(i->code, s.c, i->k) ? t : f;
            else if (s.kind == A_WORD)
                fork_on_word(c, i, t, f, s);
            else
                split(c, i, t, f, s);
            if (s.kind == A_CONST)
                continue;
            return;
        }
        case BPF_RET | BPF_K:
            add_box(c, s.arch, s.nr, intern(c, (struct node){.code = i->code, .k = i->k}));
            return;
        default:
            break;
        }
        break; /* an instruction this pass does not follow */
    }
    c->failed = true;
}

/* ---- the canonical form: per architecture, ranges of numbers ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_box_nr(const void *a, const void *b)
{
    return cmp_u32(&((const struct box *)a)->nr.lo, &((const struct box *)b)->nr.lo);
}

/* The ranges of numbers for the architectures from arch (a class: no box
 * starts or ends inside it).  -1 if the boxes do not tile the line. */
static int section_of(const struct compact *c, uint32_t arch, struct section *out)
{
    struct box *row = xmalloc(c->n_boxes * sizeof(*row));
    size_t n = 0;
    for (size_t b = 0; b < c->n_boxes; b++)
        if (c->boxes[b].arch.lo <= arch && arch <= c->boxes[b].arch.hi)
            row[n++] = c->boxes[b];
    qsort(row, n, sizeof(*row), cmp_box_nr);
    out->r = xmalloc((n ? n : 1) * sizeof(*out->r));
    out->n = 0;
    uint64_t next = 0;
    for (size_t b = 0; b < n; b++) {
        if (row[b].nr.lo != next)
            break;
        if (out->n == 0 || out->r[out->n - 1].what != row[b].node)
            out->r[out->n++] = (struct range){row[b].nr.lo, row[b].node};
        next = (uint64_t)row[b].nr.hi + 1;
    }
    free(row);
    return next == (uint64_t)UINT32_MAX + 1 ? 0 : -1;
}

static bool same_section(const struct section *a, const struct section *b)
{
    return a->n == b->n && memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0;
}

/* ---- emitting, from the last instruction back ---- */

static long put(struct compact *c, struct sock_filter ins)
{
    if (c->n_out >= c->in->len) { /* no shorter: not worth it */
        c->failed = true;
        return 0;
    }
    c->out[c->n_out] = ins;
    return c->n_out++;
}

/* Something at e reachable from the next instruction put: e itself, or a
 * copy of its return, or a jump to it. */
static long within_reach(struct compact *c, long e)
{
    if (c->n_out - e - 1 <= MAX_JUMP)
        return e;
    if (BPF_CLASS(c->out[e].code) == BPF_RET)
        return put(c, c->out[e]);
    return put(c,
               (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, (uint32_t)(c->n_out - e - 1), 0, 0));
}

static long put_jump(struct compact *c, uint16_t code, uint32_t k, long t, long f)
{
    while (!c->failed) {
        if (c->n_out - t - 1 > MAX_JUMP)
            t = within_reach(c, t);
        else if (c->n_out - f - 1 > MAX_JUMP)
            f = within_reach(c, f);
        else
            return put(c, (struct sock_filter)BPF_JUMP(code, k, (uint8_t)(c->n_out - t - 1),
                                                       (uint8_t)(c->n_out - f - 1)));
    }
    return 0;
}

static long emit_node(struct compact *c, int idx)
{
    struct node *n = &c->nodes[idx];
    if (n->emitted >= 0 && c->n_out - n->emitted - 1 <= MAX_JUMP)
        return n->emitted;
    long e;
    if (BPF_CLASS(n->code) == BPF_RET) {
        e = put(c, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, n->k));
    } else {
        long t = emit_node(c, n->t);
        long f = emit_node(c, n->f);
        e = put_jump(c, n->code, n->k, t, f);
        if (n->mask != UINT32_MAX)
            e = put(c, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, n->mask));
        e = put(c, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, n->off));
    }
    n->emitted = e;
    return e;
}

static long emit_section(struct compact *c, const struct section *s);

/* A binary search over r[i..j), A holding the value searched. */
static long emit_ranges(struct compact *c, const struct range *r, size_t i, size_t j,
                        const struct section *sections)
{
    if (c->failed)
        return 0;
    if (j - i == 1)
        return sections ? emit_section(c, &sections[r[i].what]) : emit_node(c, r[i].what);
    size_t mid = i + (j - i) / 2;
    long t = emit_ranges(c, r, mid, j, sections);
    long f = emit_ranges(c, r, i, mid, sections);
    return put_jump(c, BPF_JMP | BPF_JGE | BPF_K, r[mid].lo, t, f);
}

static long emit_section(struct compact *c, const struct section *s)
{
    if (s->n == 1) /* the number does not matter */
        return emit_node(c, s->r[0].what);
    emit_ranges(c, s->r, 0, s->n, NULL);
    return put(c, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                               offsetof(struct seccomp_data, nr)));
}

/* ---- checking the result against the original ---- */

static bool agree(const struct sock_fprog *a, const struct sock_fprog *b,
                  const struct seccomp_data *d)
{
    uint32_t ra, rb;
    return rt_bpf_run(a, d, &ra) == 0 && rt_bpf_run(b, d, &rb) == 0 && ra == rb;
}

/* The tests of a tree, each at its constant, either side of it and at the
 * extremes; each subtree under a value that leads to it. */
static bool agree_on_tree(const struct compact *c, const struct sock_fprog *out, int idx,
                          const struct seccomp_data *d)
{
    const struct node *n = &c->nodes[idx];
    if (BPF_CLASS(n->code) == BPF_RET)
        return true;
    const uint32_t values[] = {n->k, n->k - 1, n->k + 1, 0, UINT32_MAX, n->k | ~n->mask};
    bool seen_t = false, seen_f = false;
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        struct seccomp_data e = *d;
        memcpy((char *)&e + n->off, &values[v], sizeof(uint32_t));
        if (!agree(c->in, out, &e))
            return false;
        bool taken = jump_taken(n->code, values[v] & n->mask, n->k);
        bool *seen = taken ? &seen_t : &seen_f;
        if (!*seen && !agree_on_tree(c, out, taken ? n->t : n->f, &e))
            return false;
        *seen = true;
    }
    return true;
}

static bool verify(const struct compact *c, const struct sock_fprog *out)
{
    for (size_t b = 0; b < c->n_boxes; b++) {
        const struct box *x = &c->boxes[b];
        for (int corner = 0; corner < 4; corner++) {
            struct seccomp_data d = {0};
            d.arch = corner & 1 ? x->arch.hi : x->arch.lo;
            d.nr = (int)(corner & 2 ? x->nr.hi : x->nr.lo);
            if (!agree(c->in, out, &d) || !agree_on_tree(c, out, x->node, &d))
                return false;
        }
    }
    return true;
}

bool rt_bpf_compact(const struct sock_fprog *in, struct sock_fprog *out)
{
    struct compact *c = xcalloc(1, sizeof(*c));
    c->in = in;
    struct section *sections = NULL;
    size_t n_sections = 0;
    uint32_t *cuts = NULL;
    bool ok = false;
    const struct iv all = {0, UINT32_MAX};
    explore(c, 0, (struct sym){.kind = A_CONST, .arch = all, .nr = all});
    if (c->failed || c->n_boxes == 0)
        goto out;

    /* The architectures' classes: no box starts or ends inside one. */
    cuts = xmalloc((2 * c->n_boxes + 1) * sizeof(*cuts));
    size_t n_cuts = 0;
    cuts[n_cuts++] = 0;
    for (size_t b = 0; b < c->n_boxes; b++) {
        cuts[n_cuts++] = c->boxes[b].arch.lo;
        if (c->boxes[b].arch.hi != UINT32_MAX)
            cuts[n_cuts++] = c->boxes[b].arch.hi + 1;
    }
    qsort(cuts, n_cuts, sizeof(*cuts), cmp_u32);
    struct range *arch_r = xmalloc(n_cuts * sizeof(*arch_r));
    size_t n_arch = 0;
    sections = xcalloc(n_cuts, sizeof(*sections));
    for (size_t k = 0; k < n_cuts; k++) {
        if (k > 0 && cuts[k] == cuts[k - 1])
            continue;
        if (section_of(c, cuts[k], &sections[n_sections]) < 0) {
            free(sections[n_sections].r);
            free(arch_r);
            goto out;
        }
        if (n_arch > 0 && same_section(&sections[arch_r[n_arch - 1].what], &sections[n_sections])) {
            free(sections[n_sections].r);
            continue;
        }
        arch_r[n_arch++] = (struct range){cuts[k], (int)n_sections++};
    }

    c->out = xmalloc(in->len * sizeof(*c->out));
    if (n_arch == 1) {
        emit_section(c, &sections[0]);
    } else {
        emit_ranges(c, arch_r, 0, n_arch, sections);
        put(c, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                            offsetof(struct seccomp_data, arch)));
    }
    free(arch_r);
    if (c->failed)
        goto out;
    struct sock_filter *prog = xmalloc(c->n_out * sizeof(*prog));
    for (long k = 0; k < c->n_out; k++)
        prog[k] = c->out[c->n_out - 1 - k];
    *out = (struct sock_fprog){.len = (unsigned short)c->n_out, .filter = prog};
    ok = verify(c, out);
    if (!ok) {
        free(prog);
        out->filter = NULL;
    }
out:
    for (size_t k = 0; k < n_sections; k++)
        free(sections[k].r);
    free(sections);
    free(cuts);
    free(c->out);
    free(c->boxes);
    free(c);
    return ok;
}
