/* firewall.c: outbound NAT, forwarding, isolation and published ports for
 * mocker's bridge networks, in one nftables table of mocker's own.
 *
 * Through libnftables (loaded on first use, nft_shim.c), not `nft` or
 * `iptables` processes: one call costs about 0.1-0.3 ms where a fork+exec of
 * nft costs several, and a container start with published ports makes one.
 * Commands are nft syntax built only from checked values: integers, IPv4
 * addresses printed from their numbers, and ids and interface names limited
 * to [A-Za-z0-9_.-].
 *
 * The table (`nft list table ip mocker`):
 *   set bridges        every network's bridge, comment "net:ID": the mark that
 *                      a network's rules are in (they are added in the same
 *                      transaction as the element, so its presence means all
 *                      of them are)
 *   map ports_any      proto . host port            : ctr ip . ctr port
 *   map ports_ip       host ip . proto . host port  : ctr ip . ctr port
 *                      published ports as map elements, comment "ctr:ID": a
 *                      start adds elements instead of rules, the kernel finds a
 *                      port in a hash instead of walking a rule per port, and
 *                      "create element" refuses a host port that is taken
 *   chain prerouting, output (nat, dstnat): to a local address, jump ports
 *   chain ports        dnat through ports_ip, then ports_any
 *   chain postrouting (nat, srcnat):
 *                      127.0.0.0/8 DNATed out a bridge: masquerade (with
 *                      route_localnet, 127.0.0.1:PORT reaches a container);
 *                      per network: its subnet leaving other than by its bridge
 *                      (outbound NAT), and DNATed back out its own bridge
 *                      (hairpin: a container to its own network's published
 *                      port through a host address)
 *   chain forward (filter):
 *                      per internal network: drop what crosses its bridge;
 *                      per network: bridge to same bridge accept (seen with
 *                      br_netfilter, which dockerd loads); established accept;
 *                      DNATed (published ports) into a bridge accept; anything
 *                      else into a bridge drop (other networks, other hosts)
 *
 * A packet must be accepted by every base chain on its hook, so a DROP policy
 * in someone else's FORWARD chain drops our containers' traffic whatever we
 * accept.  dockerd sets exactly that on iptables-nft's `ip filter FORWARD`
 * and leaves the DOCKER-USER chain, which FORWARD jumps to first, to its
 * users: mocker puts two accept rules per bridge there (or at the head of
 * FORWARD when it drops and there is no DOCKER-USER), commented
 * "mocker net:ID"; our own forward chain still does the filtering.  iptables
 * in legacy mode (x_tables) is not seen by nftables and is not handled. */
#include "network/network.h"
#include "network/nftables.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One context for the process, under a lock: `mocker serve` calls from several
 * threads, and libnftables keeps its cache and buffers in the context. */
static pthread_mutex_t fw_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nft_ctx *fw_ctx;

#define FW_TABLE_SKELETON                                                                          \
    "create table ip mocker\n"                                                                     \
    "add set ip mocker bridges { type ifname; }\n"                                                 \
    "add map ip mocker ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n" \
    "add map ip mocker ports_ip { type ipv4_addr . inet_proto . inet_service : "                   \
    "ipv4_addr . inet_service; }\n"                                                                \
    "add chain ip mocker ports\n"                                                                  \
    "add rule ip mocker ports dnat ip to ip daddr . meta l4proto . th dport map @ports_ip\n"       \
    "add rule ip mocker ports dnat ip to meta l4proto . th dport map @ports_any\n"                 \
    "add chain ip mocker prerouting { type nat hook prerouting priority dstnat; policy accept; "   \
    "}\n"                                                                                          \
    "add rule ip mocker prerouting fib daddr type local jump ports\n"                              \
    "add chain ip mocker output { type nat hook output priority -100; policy accept; }\n"          \
    "add rule ip mocker output fib daddr type local jump ports\n"                                  \
    "add chain ip mocker postrouting { type nat hook postrouting priority srcnat; "                \
    "policy accept; }\n"                                                                           \
    "add rule ip mocker postrouting ip saddr 127.0.0.0/8 oifname @bridges ct status dnat "         \
    "masquerade\n"                                                                                 \
    "add chain ip mocker forward { type filter hook forward priority filter; policy accept; }\n"   \
    "add rule ip mocker forward ct state established,related accept\n"                             \
    "add rule ip mocker forward oifname @bridges ct status dnat accept\n"                          \
    "add rule ip mocker forward oifname @bridges drop\n"

/* ---- running commands ---- */

/* What a failed batch said: the errno libnftables printed (ENOENT, EEXIST) or
 * EIO, and a one-line message. */
struct fw_fail {
    int errnum;
    char *msg;
};

static void fw_fail_clear(struct fw_fail *f)
{
    free(f->msg);
    f->msg = NULL;
    f->errnum = 0;
}

/* "Error: Could not process rule: File exists\nadd element ...\n    ^^^\n"
 * into "Could not process rule: File exists: add element ...". */
static char *fw_error_line(const char *buf)
{
    if (buf == NULL || *buf == '\0')
        return xstrdup("unknown error");
    const char *p = mk_str_has_prefix(buf, "Error: ") ? buf + 7 : buf;
    const char *nl = strchr(p, '\n');
    if (nl == NULL)
        return xstrdup(p);
    const char *cmd = nl + 1, *end = strchr(cmd, '\n');
    size_t cl = end ? (size_t)(end - cmd) : strlen(cmd);
    if (cl == 0)
        return xstrndup(p, (size_t)(nl - p));
    return xasprintf("%.*s: %.*s", (int)(nl - p), p, (int)cl, cmd);
}

/* libnftables opens its netlink socket (through libmnl) without
 * SOCK_CLOEXEC and does not say which fd it is: the fds that nft_ctx_new
 * opened are marked close-on-exec, so that no exec (a container's init)
 * inherits a netfilter socket of the host.  Another thread's new fd marked
 * too is harmless: mocker opens every fd O_CLOEXEC anyway. */
#define FW_FD_WORDS 64 /* fds below 4096 */

static void fw_open_fds(uint64_t set[FW_FD_WORDS])
{
    memset(set, 0, FW_FD_WORDS * sizeof(uint64_t));
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 && fd < FW_FD_WORDS * 64)
            set[fd / 64] |= 1ull << (fd % 64);
    }
}

static void fw_cloexec_new_fds(const uint64_t before[FW_FD_WORDS])
{
    uint64_t after[FW_FD_WORDS];
    fw_open_fds(after);
    for (int fd = 0; fd < FW_FD_WORDS * 64; fd++)
        if ((after[fd / 64] & ~before[fd / 64]) & (1ull << (fd % 64)))
            mk_fd_set_cloexec(fd, true);
}

/* Run a batch of commands: one netlink transaction, all or nothing.  With
 * out, the commands list something and *out is their JSON. */
/* The process's context, made on first use: loads libnftables. */
static int fw_open(struct fw_fail *fail)
{
    if (fw_ctx != NULL)
        return 0;
    uint64_t before[FW_FD_WORDS];
    fw_open_fds(before);
    fw_ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    fw_cloexec_new_fds(before);
    if (fw_ctx == NULL) {
        fail->errnum = EIO;
        fail->msg = xstrdup("cannot create an nftables context");
        return -1;
    }
    nft_ctx_buffer_output(fw_ctx);
    nft_ctx_buffer_error(fw_ctx);
    return 0;
}

static int fw_run(const char *cmds, json_t **out, struct fw_fail *fail)
{
    if (fw_open(fail) < 0)
        return -1;
    nft_ctx_output_set_flags(fw_ctx, out ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0);
    int r = nft_run_cmd_from_buffer(fw_ctx, cmds);
    /* Reading a buffer also empties it for the next command. */
    const char *o = nft_ctx_get_output_buffer(fw_ctx);
    const char *e = nft_ctx_get_error_buffer(fw_ctx);
    if (r != 0) {
        fail->errnum = e && strstr(e, "No such file or directory") ? ENOENT
                       : e && strstr(e, "File exists")             ? EEXIST
                                                                   : EIO;
        fail->msg = fw_error_line(e);
        return -1;
    }
    if (out != NULL) {
        json_error_t je;
        *out = json_loads(o ? o : "", 0, &je);
        if (*out == NULL) {
            fail->errnum = EIO;
            fail->msg = xasprintf("cannot parse nft's JSON: %s", je.text);
            return -1;
        }
    }
    return 0;
}

static int fw_err(mk_err **err, struct fw_fail *f)
{
    int r = mk_err_set(err,
                       f->errnum == EEXIST   ? MK_ERR_CONFLICT
                       : f->errnum == ENOENT ? MK_ERR_NOT_FOUND
                                             : MK_ERR_INTERNAL,
                       "nftables: %s", f->msg);
    fw_fail_clear(f);
    return r;
}

/* The objects of a JSON listing: {"nftables": [{"metainfo": ...}, {"rule": {...}}, ...]} */
static json_t *fw_objects(json_t *listing)
{
    json_t *a = json_object_get(listing, "nftables");
    return json_is_array(a) ? a : NULL;
}

/* The elements of the set or map (kind) that a "list set/map" printed. */
static json_t *fw_listed_elems(json_t *listing, const char *kind)
{
    json_t *o;
    size_t i;
    json_array_foreach(fw_objects(listing), i, o)
    {
        json_t *s = json_object_get(o, kind);
        if (s != NULL)
            return json_object_get(s, "elem");
    }
    return NULL;
}

/* ---- checking what goes into a command ---- */

static bool fw_word_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

static int fw_check_id(const char *what, const char *id, mk_err **err)
{
    if (!fw_word_ok(id, 64))
        return mk_err_set(err, MK_ERR_INVALID, "firewall: invalid %s id \"%s\"", what,
                          id ? id : "");
    return 0;
}

static const char *fw_proto_name(enum mk_fw_proto p)
{
    return p == MK_FW_UDP ? "udp" : "tcp";
}

/* ---- sysctls ---- */

/* Write want to a /proc/sys file unless it holds it already: most starts
 * find both sysctls set and pay two reads. */
static int fw_sysctl(const char *path, const char *want, mk_err **err)
{
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s", path);
    char cur[16] = "";
    ssize_t n = read(fd, cur, sizeof(cur) - 1);
    if (n > 0 && strncmp(cur, want, strlen(want)) == 0 && (cur[strlen(want)] == '\n'))
        return 0;
    if (pwrite(fd, want, strlen(want), 0) != (ssize_t)strlen(want))
        return mk_err_sys(err, "write %s", path);
    return 0;
}

/* ---- what is there: every owned object, with the command that deletes it ---- */

struct fw_obj {
    char *owner;  /* "net:ID", "ctr:ID" */
    char *del;    /* "delete rule ip mocker forward handle 12" */
    bool bridge;  /* an element of the bridges set: the network is present */
    bool foreign; /* in a table that is not ours */
};

struct fw_scan {
    bool table; /* ip mocker exists */
    struct fw_obj *objs;
    size_t n;
};

static void fw_scan_free(struct fw_scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->objs[i].owner);
        free(s->objs[i].del);
    }
    free(s->objs);
    *s = (struct fw_scan){0};
}

static bool fw_owner_ok(const char *c)
{
    return c && (mk_str_has_prefix(c, "net:") || mk_str_has_prefix(c, "ctr:")) &&
           fw_word_ok(c + 4, 64);
}

static void fw_scan_push(struct fw_scan *s, const char *owner, char *del, bool bridge, bool foreign)
{
    s->objs = xrealloc(s->objs, (s->n + 1) * sizeof(*s->objs));
    s->objs[s->n++] = (struct fw_obj){xstrdup(owner), del, bridge, foreign};
}

/* A set element's key as nft syntax: "br0", 6 . 8080, 10.0.0.1 . tcp . 8080.
 * NULL for anything that is not made of words and numbers. */
static char *fw_key_str(json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return fw_word_ok(s, IFNAMSIZ - 1) ? xasprintf("\"%s\"", s) : NULL;
    }
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    json_t *parts = json_object_get(v, "concat");
    if (!json_is_array(parts) || json_array_size(parts) == 0)
        return NULL;
    mk_buf b = {0};
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p)
    {
        const char *s = json_string_value(p);
        if (s != NULL && fw_word_ok(s, 15))
            mk_buf_printf(&b, "%s%s", i ? " . " : "", s);
        else if (json_is_integer(p))
            mk_buf_printf(&b, "%s%lld", i ? " . " : "", (long long)json_integer_value(p));
        else {
            mk_buf_free(&b);
            return NULL;
        }
    }
    return mk_buf_steal(&b);
}

/* An element of a set or map listing: its key and comment. */
static json_t *fw_elem_key(json_t *e, bool map, const char **comment)
{
    json_t *k = map ? json_array_get(e, 0) : e;
    json_t *inner = json_object_get(k, "elem");
    *comment = inner ? json_string_value(json_object_get(inner, "comment")) : NULL;
    return inner ? json_object_get(inner, "val") : k;
}

static void fw_scan_listing(struct fw_scan *s, json_t *listing, bool foreign)
{
    json_t *objs = fw_objects(listing), *o;
    size_t i;
    json_array_foreach(objs, i, o)
    {
        json_t *rule = json_object_get(o, "rule");
        if (rule != NULL) {
            const char *c = mk_json_str(rule, "comment"), *chain = mk_json_str(rule, "chain");
            const char *table = mk_json_str(rule, "table");
            if (c == NULL || !fw_word_ok(chain, 64) || !fw_word_ok(table, 64))
                continue;
            if (foreign) {
                if (!mk_str_has_prefix(c, "mocker "))
                    continue;
                c += 7;
            }
            if (!fw_owner_ok(c))
                continue;
            fw_scan_push(s, c,
                         xasprintf("delete rule ip %s %s handle %lld\n", table, chain,
                                   (long long)mk_json_int(rule, "handle", 0)),
                         false, foreign);
            continue;
        }
        bool map = json_object_get(o, "map") != NULL;
        json_t *set = map ? json_object_get(o, "map") : json_object_get(o, "set");
        const char *name = mk_json_str(set, "name");
        if (foreign || set == NULL || !fw_word_ok(name, 64))
            continue;
        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(set, "elem"), j, e)
        {
            const char *c;
            json_t *key = fw_elem_key(e, map, &c);
            _cleanup_free_ char *k = fw_owner_ok(c) ? fw_key_str(key) : NULL;
            if (k != NULL)
                fw_scan_push(s, c, xasprintf("delete element ip mocker %s { %s }\n", name, k),
                             strcmp(name, "bridges") == 0, false);
        }
    }
}

/* The chains of iptables-nft's filter table where mocker may have had to
 * accept its bridges' traffic. */
static const char *const fw_foreign_chains[] = {"DOCKER-USER", "FORWARD"};

static int fw_scan(struct fw_scan *s, mk_err **err)
{
    *s = (struct fw_scan){0};
    struct fw_fail f = {0};
    _cleanup_json_ json_t *ours = NULL;
    if (fw_run("list table ip mocker", &ours, &f) == 0) {
        s->table = true;
        fw_scan_listing(s, ours, false);
    } else if (f.errnum == ENOENT)
        fw_fail_clear(&f);
    else
        return fw_err(err, &f);
    for (size_t i = 0; i < sizeof(fw_foreign_chains) / sizeof(*fw_foreign_chains); i++) {
        _cleanup_free_ char *cmd = xasprintf("list chain ip filter %s", fw_foreign_chains[i]);
        _cleanup_json_ json_t *theirs = NULL;
        if (fw_run(cmd, &theirs, &f) == 0)
            fw_scan_listing(s, theirs, true);
        else
            fw_fail_clear(&f); /* no such table or chain: nothing of ours there */
    }
    return 0;
}

/* Delete everything of the owners drop() picks, in one transaction; the whole
 * table, and every rule of ours elsewhere, when no network would be left.
 * Locked by the caller. */
static int fw_remove(bool (*drop)(const char *owner, void *ctx), void *ctx, mk_err **err)
{
    /* A rule can go between the listing and the delete (another mocker
     * removing the same owner): list again. */
    for (int attempt = 0;; attempt++) {
        struct fw_scan s;
        if (fw_scan(&s, err) < 0)
            return -1;
        bool nets_left = false;
        for (size_t i = 0; i < s.n; i++)
            if (s.objs[i].bridge && !drop(s.objs[i].owner, ctx))
                nets_left = true;
        mk_buf b = {0};
        if (!nets_left) {
            /* The ports of containers go with the table; rules of ours in
             * other tables are orphans without it. */
            if (s.table)
                mk_buf_puts(&b, "delete table ip mocker\n");
            for (size_t i = 0; i < s.n; i++)
                if (s.objs[i].foreign)
                    mk_buf_puts(&b, s.objs[i].del);
        } else {
            for (size_t i = 0; i < s.n; i++)
                if (drop(s.objs[i].owner, ctx))
                    mk_buf_puts(&b, s.objs[i].del);
        }
        fw_scan_free(&s);
        if (b.len == 0)
            return 0;
        _cleanup_free_ char *cmds = mk_buf_steal(&b);
        struct fw_fail f = {0};
        if (fw_run(cmds, NULL, &f) == 0)
            return 0;
        if (f.errnum != ENOENT || attempt == 2)
            return fw_err(err, &f);
        fw_fail_clear(&f);
    }
}

static bool fw_is_owner(const char *owner, void *ctx)
{
    return strcmp(owner, ctx) == 0;
}

static bool fw_all(const char *owner, void *ctx)
{
    return true;
}

/* ---- networks ---- */

/* The network's own rules, after the element that marks it present. */
static char *fw_network_cmds(const struct mk_fw_network *n, const char *owner)
{
    const char *br = n->bridge;
    _cleanup_free_ char *subnet = mk_ipv4_net_str(&n->subnet);
    mk_buf b = {0};
    mk_buf_printf(&b, "create element ip mocker bridges { \"%s\" comment \"%s\" }\n", br, owner);
    /* Inserted: these come before the generic tail of forward. */
    mk_buf_printf(&b,
                  "insert rule ip mocker forward iifname \"%s\" oifname \"%s\" accept comment "
                  "\"%s\"\n",
                  br, br, owner);
    if (n->internal) {
        mk_buf_printf(&b,
                      "insert rule ip mocker forward iifname \"%s\" oifname != \"%s\" drop "
                      "comment \"%s\"\n"
                      "insert rule ip mocker forward oifname \"%s\" iifname != \"%s\" drop "
                      "comment \"%s\"\n",
                      br, br, owner, br, br, owner);
    } else {
        mk_buf_printf(&b,
                      "add rule ip mocker postrouting ip saddr %s oifname != \"%s\" masquerade "
                      "comment \"%s\"\n"
                      "add rule ip mocker postrouting ip saddr %s oifname \"%s\" ct status dnat "
                      "masquerade comment \"%s\"\n",
                      subnet, br, owner, subnet, br, owner);
    }
    return mk_buf_steal(&b);
}

enum fw_bridge_state { FW_NO_TABLE, FW_BRIDGE_FREE, FW_BRIDGE_HELD };

/* Whether bridge is in the bridges set, and its owner ("" without one). */
static int fw_bridge_owner(const char *bridge, enum fw_bridge_state *state, char **owner,
                           mk_err **err)
{
    struct fw_fail f = {0};
    _cleanup_json_ json_t *l = NULL;
    if (fw_run("list set ip mocker bridges", &l, &f) < 0) {
        if (f.errnum != ENOENT)
            return fw_err(err, &f);
        fw_fail_clear(&f);
        *state = FW_NO_TABLE;
        return 0;
    }
    *state = FW_BRIDGE_FREE;
    size_t i;
    json_t *e;
    json_array_foreach(fw_listed_elems(l, "set"), i, e)
    {
        const char *c;
        json_t *k = fw_elem_key(e, false, &c);
        if (json_is_string(k) && strcmp(json_string_value(k), bridge) == 0) {
            *state = FW_BRIDGE_HELD;
            *owner = xstrdup(c ? c : "");
        }
    }
    return 0;
}

/* Looked up before adding: a batch the kernel refuses (EEXIST) costs ~7 ms
 * here, its abort waits for an RCU grace period, while listing a set costs
 * ~0.1 ms. */
static int fw_network_rules(const struct mk_fw_network *n, const char *owner, mk_err **err)
{
    _cleanup_free_ char *cmds = fw_network_cmds(n, owner);
    for (int attempt = 0; attempt < 4; attempt++) {
        enum fw_bridge_state state = FW_NO_TABLE;
        _cleanup_free_ char *cur = NULL;
        if (fw_bridge_owner(n->bridge, &state, &cur, err) < 0)
            return -1;
        if (state == FW_BRIDGE_HELD) {
            if (strcmp(cur, owner) == 0)
                return 0;
            /* Left by a network that is gone (a crash, then a new network
             * with the same bridge name): its rules go first. */
            if (!fw_owner_ok(cur))
                return mk_err_set(err, MK_ERR_CONFLICT,
                                  "firewall: bridge %s is in mocker's table without an owner",
                                  n->bridge);
            if (fw_remove(fw_is_owner, cur, err) < 0)
                return -1;
            continue;
        }
        /* "create" (table, element) makes a second mocker doing the same at
         * the same moment fail instead of adding rules twice: look again. */
        _cleanup_free_ char *all =
            xasprintf("%s%s", state == FW_NO_TABLE ? FW_TABLE_SKELETON : "", cmds);
        struct fw_fail f = {0};
        if (fw_run(all, NULL, &f) == 0)
            return 0;
        if (f.errnum != EEXIST)
            return fw_err(err, &f);
        fw_fail_clear(&f);
    }
    return mk_err_set(err, MK_ERR_INTERNAL,
                      "firewall: cannot add network %s: the table keeps changing", n->id);
}

/* When iptables-nft's FORWARD chain drops by default (dockerd beside us),
 * accept the bridge's traffic there too: see the top of this file. */
static int fw_network_foreign(const struct mk_fw_network *n, const char *owner, mk_err **err)
{
    struct fw_fail f = {0};
    _cleanup_free_ char *tag = xasprintf("mocker %s", owner);
    for (size_t i = 0; i < sizeof(fw_foreign_chains) / sizeof(*fw_foreign_chains); i++) {
        const char *chain = fw_foreign_chains[i];
        _cleanup_free_ char *list = xasprintf("list chain ip filter %s", chain);
        _cleanup_json_ json_t *l = NULL;
        if (fw_run(list, &l, &f) < 0) {
            fw_fail_clear(&f);
            continue;
        }
        bool drops = false, ours = false;
        json_t *o;
        size_t j;
        json_array_foreach(fw_objects(l), j, o)
        {
            const char *policy = mk_json_str(json_object_get(o, "chain"), "policy");
            const char *c = mk_json_str(json_object_get(o, "rule"), "comment");
            drops = drops || (policy && strcmp(policy, "drop") == 0);
            ours = ours || (c && strcmp(c, tag) == 0);
        }
        /* DOCKER-USER is a regular chain, FORWARD only matters if it drops. */
        if (i == 1 && !drops)
            return 0;
        if (ours)
            return 0;
        _cleanup_free_ char *cmds =
            xasprintf("insert rule ip filter %s iifname \"%s\" accept comment \"%s\"\n"
                      "insert rule ip filter %s oifname \"%s\" accept comment \"%s\"\n",
                      chain, n->bridge, tag, chain, n->bridge, tag);
        if (fw_run(cmds, NULL, &f) < 0)
            return fw_err(err, &f);
        return 0;
    }
    return 0;
}

int mk_fw_prepare(mk_err **err)
{
    struct fw_fail f = {0};
    pthread_mutex_lock(&fw_lock);
    int r = fw_open(&f);
    if (r == 0) {
        /* A fresh process's first commands cost ~0.5 ms more each than the
         * same ones later (libnftables' code and caches touched for the first
         * time): the listing that starts mk_fw_ports_add is paid here. */
        _cleanup_json_ json_t *l = NULL;
        if (fw_run("list map ip mocker ports_any", &l, &f) < 0)
            fw_fail_clear(&f);
    }
    pthread_mutex_unlock(&fw_lock);
    return r < 0 ? fw_err(err, &f) : 0;
}

int mk_fw_network_add(const struct mk_fw_network *n, mk_err **err)
{
    if (fw_check_id("network", n->id, err) < 0)
        return -1;
    if (!fw_word_ok(n->bridge, IFNAMSIZ - 1))
        return mk_err_set(err, MK_ERR_INVALID, "firewall: invalid bridge name \"%s\"",
                          n->bridge ? n->bridge : "");
    if (n->subnet.prefix < 1 || n->subnet.prefix > 32 ||
        (n->subnet.addr & ~mk_ipv4_mask(n->subnet.prefix)) != 0)
        return mk_err_set(err, MK_ERR_INVALID, "firewall: invalid subnet for network %s", n->id);
    _cleanup_free_ char *path = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
    if (access(path, F_OK) < 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "firewall: no bridge %s", n->bridge);
    /* route_localnet: a packet from 127.0.0.1, DNATed to a container, may
     * leave by the bridge (postrouting masquerades it to the bridge's
     * address). */
    if (fw_sysctl(path, "1", err) < 0 ||
        (!n->internal && fw_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err) < 0))
        return mk_err_wrap(err, "firewall: network %s", n->id);
    _cleanup_free_ char *owner = xasprintf("net:%s", n->id);
    pthread_mutex_lock(&fw_lock);
    int r = fw_network_rules(n, owner, err);
    if (r == 0)
        r = fw_network_foreign(n, owner, err);
    pthread_mutex_unlock(&fw_lock);
    return r < 0 ? mk_err_wrap(err, "firewall: network %s", n->id) : 0;
}

static int fw_remove_owner(const char *kind, const char *id, mk_err **err)
{
    if (fw_check_id(kind, id, err) < 0)
        return -1;
    _cleanup_free_ char *owner = xasprintf("%s:%s", kind[0] == 'n' ? "net" : "ctr", id);
    pthread_mutex_lock(&fw_lock);
    int r = fw_remove(fw_is_owner, owner, err);
    pthread_mutex_unlock(&fw_lock);
    return r;
}

int mk_fw_network_remove(const char *network_id, mk_err **err)
{
    return fw_remove_owner("network", network_id, err);
}

/* ---- published ports ---- */

struct fw_pmap {
    struct mk_fw_port p;
    char *owner; /* borrowed from the listing */
};

/* The mappings of ports_any or ports_ip, appended to *v. */
static void fw_pmaps_parse(json_t *listing, bool with_ip, struct fw_pmap **v, size_t *n)
{
    size_t j;
    json_t *e;
    json_array_foreach(fw_listed_elems(listing, "map"), j, e)
    {
        const char *c;
        json_t *key = json_object_get(fw_elem_key(e, true, &c), "concat");
        json_t *val = json_object_get(json_array_get(e, 1), "concat");
        size_t k = with_ip ? 1 : 0;
        const char *proto = json_string_value(json_array_get(key, k));
        struct fw_pmap m = {.owner = (char *)(c ? c : "")};
        if (proto == NULL || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) ||
            (with_ip && mk_ipv4_parse(json_string_value(json_array_get(key, 0)) ?: "", &m.p.host_ip,
                                      NULL) < 0) ||
            mk_ipv4_parse(json_string_value(json_array_get(val, 0)) ?: "", &m.p.ctr_ip, NULL) < 0)
            continue;
        m.p.proto = proto[0] == 'u' ? MK_FW_UDP : MK_FW_TCP;
        m.p.host_port = (uint16_t)json_integer_value(json_array_get(key, k + 1));
        m.p.ctr_port = (uint16_t)json_integer_value(json_array_get(val, 1));
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[(*n)++] = m;
    }
}

/* The key of a mapping as nft syntax, and its map. */
static void fw_pmap_key(mk_buf *b, const struct mk_fw_port *p)
{
    char ip[16];
    if (p->host_ip != 0)
        mk_buf_printf(b, "ports_ip { %s . %s . %u", mk_ipv4_str(p->host_ip, ip),
                      fw_proto_name(p->proto), p->host_port);
    else
        mk_buf_printf(b, "ports_any { %s . %u", fw_proto_name(p->proto), p->host_port);
}

static bool fw_port_overlaps(const struct mk_fw_port *a, const struct mk_fw_port *b)
{
    return a->proto == b->proto && a->host_port == b->host_port &&
           (a->host_ip == b->host_ip || a->host_ip == 0 || b->host_ip == 0);
}

static bool fw_port_same(const struct mk_fw_port *a, const struct mk_fw_port *b)
{
    return fw_port_overlaps(a, b) && a->host_ip == b->host_ip && a->ctr_ip == b->ctr_ip &&
           a->ctr_port == b->ctr_port;
}

/* Plan ports[i] into b: 0 when planned (or there already), -1 when its host
 * port is taken by another owner or by another of ports[] before it. */
static int fw_port_plan(const char *owner, const struct mk_fw_port *ports, size_t i,
                        const struct fw_pmap *have, size_t nhave, mk_buf *b)
{
    const struct mk_fw_port *p = &ports[i];
    for (size_t j = 0; j < i; j++) {
        if (fw_port_same(p, &ports[j]))
            return 0; /* the same mapping asked twice */
        if (fw_port_overlaps(p, &ports[j]))
            return -1;
    }
    for (size_t j = 0; j < nhave; j++) {
        if (!fw_port_overlaps(p, &have[j].p))
            continue;
        if (strcmp(have[j].owner, owner) != 0)
            return -1;
        if (fw_port_same(p, &have[j].p))
            return 0;
    }
    /* An old mapping of this container's for the same host port (its address
     * changed) is replaced in the same transaction. */
    for (size_t j = 0; j < nhave; j++) {
        if (fw_port_overlaps(p, &have[j].p)) {
            mk_buf_puts(b, "delete element ip mocker ");
            fw_pmap_key(b, &have[j].p);
            mk_buf_puts(b, " }\n");
        }
    }
    char cip[16];
    mk_buf_puts(b, "create element ip mocker ");
    fw_pmap_key(b, p);
    mk_buf_printf(b, " comment \"%s\" : %s . %u }\n", owner, mk_ipv4_str(p->ctr_ip, cip),
                  p->ctr_port);
    return 0;
}

static int fw_ports_add(const char *owner, const struct mk_fw_port *ports, size_t n, mk_err **err)
{
    /* What is published already, to refuse a taken port (also one taken on
     * all addresses when this asks for one address, or the other way round,
     * which the maps' keys alone cannot see) and to skip what is there. */
    _cleanup_json_ json_t *any = NULL, *one = NULL;
    struct fw_fail f = {0};
    if (fw_run("list map ip mocker ports_any", &any, &f) < 0 ||
        fw_run("list map ip mocker ports_ip", &one, &f) < 0) {
        if (f.errnum == ENOENT) {
            fw_fail_clear(&f);
            return mk_err_set(err, MK_ERR_NOT_FOUND,
                              "firewall: no table ip mocker (the network is not set up)");
        }
        return fw_err(err, &f);
    }
    _cleanup_free_ struct fw_pmap *have = NULL;
    size_t nhave = 0;
    fw_pmaps_parse(any, false, &have, &nhave);
    fw_pmaps_parse(one, true, &have, &nhave);

    mk_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        int r = fw_port_plan(owner, ports, i, have, nhave, &b);
        if (r < 0) {
            char hip[16];
            mk_buf_free(&b);
            return mk_err_set(err, MK_ERR_CONFLICT,
                              "Bind for %s:%u failed: port is already allocated",
                              mk_ipv4_str(ports[i].host_ip, hip), ports[i].host_port);
        }
    }
    if (b.len == 0)
        return 0;
    _cleanup_free_ char *cmds = mk_buf_steal(&b);
    if (fw_run(cmds, NULL, &f) < 0) {
        if (f.errnum == EEXIST) { /* taken since the listing */
            fw_fail_clear(&f);
            return mk_err_set(err, MK_ERR_CONFLICT,
                              "firewall: a host port was published by another container meanwhile");
        }
        return fw_err(err, &f);
    }
    return 0;
}

int mk_fw_ports_add(const char *container_id, const struct mk_fw_port *ports, size_t n,
                    mk_err **err)
{
    if (fw_check_id("container", container_id, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((ports[i].proto != MK_FW_TCP && ports[i].proto != MK_FW_UDP) ||
            ports[i].host_port == 0 || ports[i].ctr_port == 0 || ports[i].ctr_ip == 0)
            return mk_err_set(err, MK_ERR_INVALID, "firewall: invalid port mapping");
    if (n == 0)
        return 0;
    _cleanup_free_ char *owner = xasprintf("ctr:%s", container_id);
    pthread_mutex_lock(&fw_lock);
    int r = fw_ports_add(owner, ports, n, err);
    pthread_mutex_unlock(&fw_lock);
    return r;
}

int mk_fw_ports_remove(const char *container_id, mk_err **err)
{
    return fw_remove_owner("container", container_id, err);
}

/* ---- reconciliation ---- */

static int fw_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mk_fw_owners(char ***out, mk_err **err)
{
    struct fw_scan s;
    pthread_mutex_lock(&fw_lock);
    int r = fw_scan(&s, err);
    pthread_mutex_unlock(&fw_lock);
    if (r < 0)
        return -1;
    char **v = xcalloc(s.n + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++)
        v[n++] = steal_pointer(&s.objs[i].owner);
    fw_scan_free(&s);
    qsort(v, n, sizeof(*v), fw_cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && strcmp(v[u - 1], v[i]) == 0)
            free(v[i]);
        else
            v[u++] = v[i];
    }
    v[u] = NULL;
    *out = v;
    return 0;
}

struct fw_keep {
    bool (*keep)(const char *owner, void *ctx);
    void *ctx;
};

static bool fw_not_kept(const char *owner, void *ctx)
{
    struct fw_keep *k = ctx;
    return !k->keep(owner, k->ctx);
}

int mk_fw_sweep(bool (*keep)(const char *owner, void *ctx), void *ctx, mk_err **err)
{
    struct fw_keep k = {keep, ctx};
    pthread_mutex_lock(&fw_lock);
    int r = fw_remove(fw_not_kept, &k, err);
    pthread_mutex_unlock(&fw_lock);
    return r < 0 ? mk_err_wrap(err, "firewall: sweep") : 0;
}

int mk_fw_reset(mk_err **err)
{
    pthread_mutex_lock(&fw_lock);
    int r = fw_remove(fw_all, NULL, err);
    pthread_mutex_unlock(&fw_lock);
    return r;
}

/* ---- the embedded DNS server's redirect, inside a container ---- */

struct dns_redirect {
    int netns_fd;
    uint16_t port;
    int errnum;
    char *msg;
};

/* In a thread of its own, which enters the container's network namespace:
 * a context made there speaks to that namespace's netfilter. */
static void *dns_redirect_thread(void *arg)
{
    struct dns_redirect *d = arg;
    if (setns(d->netns_fd, CLONE_NEWNET) < 0) {
        d->errnum = errno;
        d->msg = xstrdup("enter the container's network namespace");
        return NULL;
    }
    uint64_t before[FW_FD_WORDS];
    fw_open_fds(before);
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    fw_cloexec_new_fds(before);
    if (ctx == NULL) {
        d->errnum = EIO;
        d->msg = xstrdup("cannot create an nftables context");
        return NULL;
    }
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    _cleanup_free_ char *cmds = xasprintf(
        "add table ip mocker_dns\n"
        "add chain ip mocker_dns output { type nat hook output priority -100; policy accept; }\n"
        "add rule ip mocker_dns output ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:%u\n"
        "add rule ip mocker_dns output ip daddr 127.0.0.11 tcp dport 53 dnat to 127.0.0.11:%u\n",
        (unsigned)d->port, (unsigned)d->port);
    if (nft_run_cmd_from_buffer(ctx, cmds) != 0) {
        d->errnum = EIO;
        d->msg = fw_error_line(nft_ctx_get_error_buffer(ctx));
    }
    nft_ctx_free(ctx);
    return NULL;
}

int mk_fw_dns_redirect(int netns_fd, uint16_t port, mk_err **err)
{
    struct dns_redirect d = {.netns_fd = netns_fd, .port = port};
    pthread_t t;
    int rc = pthread_create(&t, NULL, dns_redirect_thread, &d);
    if (rc != 0)
        return mk_err_errno(err, rc, "redirect the container's DNS: create thread");
    pthread_join(t, NULL);
    if (d.msg != NULL) {
        mk_err_errno(err, d.errnum, "redirect the container's DNS (127.0.0.11:53): %s", d.msg);
        free(d.msg);
        return -1;
    }
    return 0;
}
