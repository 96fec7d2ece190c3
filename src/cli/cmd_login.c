/* cmd_login.c: docker login and logout, with docker 28's flags, prompts,
 * messages and exit codes.  Credentials are checked against the registry
 * (mk_registry_login) before they are stored (registry/credentials.h).
 *
 * Unlike docker 28, login to Docker Hub does not start docker's web-based
 * device-code flow: it prompts for a username and password, as docker does
 * with DOCKER_CLI_DISABLE_OAUTH_LOGIN=1. */
#include "cli/cli.h"
#include "registry/credentials.h"
#include "registry/registry.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>

#define INDEX_SERVER "https://index.docker.io/v1/"

/* docker's errors from the CLI itself: the message alone, status 1. */
static int fail(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
    return 1;
}

static int fail_err(mk_err *err)
{
    int r = fail(err->msg);
    mk_err_free(err);
    return r;
}

/* docker's tui note: " Info -> " (colours on a terminal), the lines of text
 * below each other. */
static void print_note(FILE *f, const char *text)
{
    bool tty = isatty(fileno(f));
    const char *header =
        tty ? "\x1b[1m\x1b[106m\x1b[30mi\x1b[0m\x1b[0m \x1b[96mInfo → \x1b[0m\x1b[0m" : " Info -> ";
    fprintf(f, "\n%s", header);
    const char *line = text;
    for (bool first = true;; first = false) {
        size_t n = strcspn(line, "\n");
        /* Both headers are nine columns wide. */
        fprintf(f, "%s%s%.*s%s\n", first ? "" : "         ", tty ? "\x1b[3m" : "", (int)n, line,
                tty ? "\x1b[0m" : "");
        if (line[n] == '\0')
            break;
        line += n + 1;
    }
}

/* docker's hints.Enabled: on unless DOCKER_CLI_HINTS parses as false. */
static bool hints_enabled(void)
{
    const char *v = getenv("DOCKER_CLI_HINTS");
    if (v == NULL)
        return true;
    static const char *const off[] = {"0", "f", "F", "false", "FALSE", "False", NULL};
    for (size_t i = 0; off[i]; i++)
        if (strcmp(v, off[i]) == 0)
            return false;
    return true;
}

/* Go's strings.TrimSpace, in place. */
static char *trim_space(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\n\r\v\f", s[n - 1]) != NULL)
        s[--n] = '\0';
    return s;
}

/* Passwords are wiped before their memory goes back to the allocator. */
static void secret_freep(char **p)
{
    if (*p != NULL) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}
#define _cleanup_secret_ __attribute__((cleanup(secret_freep)))

/* Print msg on stdout and read one line of stdin, trimmed ("" at EOF). */
static char *read_input(const char *msg)
{
    fputs(msg, stdout);
    fflush(stdout);
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    if (getline(&line, &cap, stdin) < 0)
        return xstrdup("");
    return xstrdup(trim_space(line));
}

/* The terminal's settings while echo is off, for a signal to put back. */
static struct termios saved_tty;
static volatile sig_atomic_t echo_off;

static void restore_echo_and_die(int sig)
{
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int read_password(char **out, mk_err **err)
{
    if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
        return mk_err_sys(err, "Error: cannot read the password from the terminal");
    struct termios quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    struct sigaction sa = {.sa_handler = restore_echo_and_die}, old_int, old_term, old_hup;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    echo_off = 1;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
        echo_off = 0;
        return mk_err_sys(err, "Error: cannot turn off echo on the terminal");
    }
    char *pw = read_input("Password: ");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    echo_off = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    *out = pw;
    return 0;
}

/* docker's PromptUserForCredentials: prompt for what the flags did not give.
 * On success *user and *pass are set (owned). */
static int prompt_credentials(const char *arg_user, const char *arg_pass, const char *default_user,
                              const char *key, char **user, char **pass, mk_err **err)
{
    _cleanup_free_ char *u = xstrdup(arg_user ? arg_user : "");
    _cleanup_secret_ char *p = xstrdup(arg_pass ? arg_pass : "");
    if (*trim_space(u) == '\0') {
        if (strcmp(key, INDEX_SERVER) == 0) {
            printf("Log in with your Docker ID or email address to push and pull images from "
                   "Docker Hub. If you don't have a Docker ID, head over to "
                   "https://hub.docker.com/ to create one.\n");
            if (hints_enabled())
                printf("You can log in with your password or a Personal Access Token (PAT). "
                       "Using a limited-scope PAT grants better security and is required for "
                       "organizations using SSO. Learn more at "
                       "https://docs.docker.com/go/access-tokens/\n\n");
        }
        _cleanup_free_ char *dflt = xstrdup(default_user ? default_user : "");
        const char *d = trim_space(dflt);
        _cleanup_free_ char *msg = *d ? xasprintf("Username (%s): ", d) : xstrdup("Username: ");
        free(u);
        u = read_input(msg);
        if (*u == '\0') {
            free(u);
            u = xstrdup(d);
        }
        if (*u == '\0')
            return mk_err_set(err, MK_ERR_INVALID, "Error: Non-null Username Required");
    }
    if (*trim_space(p) == '\0') {
        if (strcmp(key, INDEX_SERVER) == 0)
            print_note(stderr,
                       "A Personal Access Token (PAT) can be used instead.\n"
                       "To create a PAT, visit \x1b[4mhttps://app.docker.com/settings\x1b[0m"
                       "\n\n");
        secret_freep(&p);
        if (read_password(&p, err) < 0)
            return -1;
        /* The newline the user typed was not echoed. */
        putchar('\n');
        if (*p == '\0')
            return mk_err_set(err, MK_ERR_INVALID, "Error: Password Required");
    }
    *user = xstrdup(trim_space(u));
    *pass = xstrdup(trim_space(p));
    return 0;
}

/* The registry accepted user/pass: keep them (or the identity token it gave
 * instead of them), warning as docker does about a password kept in plain text. */
static int save_credentials(const char *domain, const char *user, const char *pass,
                            const char *token)
{
    struct mk_auth a = {.username = (char *)user,
                        .password = token ? NULL : (char *)pass,
                        .identity_token = (char *)token};
    _cleanup_free_ char *plain = NULL;
    mk_err *err = NULL;
    if (mk_creds_save(domain, &a, &plain, &err) < 0) {
        mk_err_wrap(&err, "Error saving credentials");
        return fail_err(err);
    }
    if (plain != NULL)
        fprintf(stderr,
                "\nWARNING! Your credentials are stored unencrypted in '%s'.\n"
                "Configure a credential helper to remove this warning. See\n"
                "https://docs.docker.com/go/credential-store/\n\n",
                plain);
    return 0;
}

/* docker's loginWithStoredCredentials: true when they still work. */
static bool login_stored(const char *domain, const struct mk_auth *stored, int *status)
{
    fprintf(stderr, "Authenticating with existing credentials... [Username: %s]\n",
            stored->username);
    print_note(stderr,
               "To login with a different account, run 'mocker logout' followed by 'mocker login'");
    fputs("\n\n", stderr);
    _cleanup_free_ char *token = NULL;
    mk_err *err = NULL;
    if (mk_registry_login(domain, stored->username, stored->password, &token, &err) < 0) {
        if (err->kind == MK_ERR_UNAUTHORIZED)
            fprintf(stderr, "Stored credentials invalid or expired\n");
        else
            fprintf(stderr, "Login did not succeed, error: %s\n", err->msg);
        mk_err_free(err);
        return false;
    }
    *status = save_credentials(domain, stored->username, stored->password, token);
    return true;
}

/* All of stdin, less one trailing "\n" and then one "\r" (docker 28.2). */
static int read_password_stdin(char **out)
{
    mk_buf b = {0};
    char chunk[4096];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            mk_buf_free(&b);
            return -1;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > (1u << 20)) { /* no password is a megabyte */
            explicit_bzero(b.data, b.len);
            mk_buf_free(&b);
            errno = EFBIG;
            return -1;
        }
        mk_buf_append(&b, chunk, (size_t)n);
    }
    mk_buf_append(&b, "", 1);
    char *s = mk_buf_steal(&b);
    mk_buf_free(&b);
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '\n')
        s[--len] = '\0';
    if (len > 0 && s[len - 1] == '\r')
        s[--len] = '\0';
    *out = s;
    return 0;
}

int cmd_login(int argc, char **argv)
{
    static const struct mk_cmd cmd = {
        "login", "login [OPTIONS] [SERVER]",
        "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.", true};
    _cleanup_free_ char *user = NULL;
    _cleanup_secret_ char *pass = NULL;
    bool pass_stdin = false, user_seen = false, pass_seen = false, stdin_seen = false;
    struct mk_opt opts[] = {
        {"username", 'u', MK_OPT_STRING, &user, "Username", &user_seen},
        {"password", 'p', MK_OPT_STRING, &pass, "Password or Personal Access Token (PAT)",
         &pass_seen},
        {"password-stdin", 0, MK_OPT_BOOL, &pass_stdin,
         "Take the Password or Personal Access Token (PAT) from stdin", &stdin_seen},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 1, &rest);
    if (r >= 0)
        return r;
    if (stdin_seen) {
        if (pass_seen)
            return fail("conflicting options: cannot specify both --password and --password-stdin");
        if (!user_seen)
            return fail("the --password-stdin option requires --username to be set");
    }
    if (user_seen && *user == '\0')
        return fail("username is empty");
    if (pass_seen && *pass == '\0')
        return fail("password is empty");
    if (pass != NULL && *pass != '\0')
        fprintf(stderr,
                "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    if (pass_stdin) {
        secret_freep(&pass);
        if (read_password_stdin(&pass) < 0) {
            fprintf(stderr, "read password from stdin: %s\n", strerror(errno));
            return 1;
        }
    }
    const char *server =
        rest[0] != NULL && strcmp(rest[0], "docker.io") != 0 ? rest[0] : INDEX_SERVER;
    _cleanup_free_ char *key = mk_creds_key(server);
    const char *domain = strcmp(key, INDEX_SERVER) == 0 ? "docker.io" : key;
    bool no_user = user == NULL || *user == '\0', no_pass = pass == NULL || *pass == '\0';

    /* Nothing given: the stored credentials first, if they still work. */
    struct mk_auth stored = {0};
    int status = 0;
    if (no_user && no_pass) {
        mk_err *err = NULL;
        if (mk_creds_get(domain, &stored, &err) < 0)
            return fail_err(err);
        if (stored.username != NULL && *stored.username && stored.password != NULL &&
            login_stored(domain, &stored, &status)) {
            mk_auth_clear(&stored);
            if (status == 0)
                printf("Login Succeeded\n");
            return status;
        }
    }
    _cleanup_free_ char *default_user = steal_pointer(&stored.username);
    mk_auth_clear(&stored);

    if ((no_user || no_pass) && !isatty(STDIN_FILENO))
        return fail("Error: Cannot perform an interactive login from a non TTY device");
    _cleanup_free_ char *u = NULL;
    _cleanup_secret_ char *p = NULL, *token = NULL;
    mk_err *err = NULL;
    if (prompt_credentials(user, pass, default_user, key, &u, &p, &err) < 0)
        return fail_err(err);
    if (mk_registry_login(domain, u, p, &token, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    status = save_credentials(domain, u, p, token);
    if (status == 0)
        printf("Login Succeeded\n");
    return status;
}

int cmd_logout(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"logout", "logout [SERVER]",
                                      "Log out from a registry.\nIf no server is specified, the "
                                      "default is defined by the daemon.",
                                      true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 1, &rest);
    if (r >= 0)
        return r;
    _cleanup_free_ char *key = mk_creds_key(rest[0] != NULL ? rest[0] : INDEX_SERVER);
    printf("Removing login credentials for %s\n", key);
    fflush(stdout);
    mk_err *err = NULL;
    /* docker 28 says nothing more when there was nothing to forget. */
    if (mk_creds_erase(key, &err) < 0 && err->kind != MK_ERR_NOT_FOUND)
        fprintf(stderr, "WARNING: could not erase credentials:\n%s: %s\n", key, err->msg);
    mk_err_free(err);
    return 0;
}
