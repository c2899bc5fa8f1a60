/*
 * admin.c - `signald user add|passwd|disable|enable|list` (see admin.h).
 */
#include "admin.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "cfg.h"
#include "lanturn/storage.h"

enum { EXIT_USAGE = 2, EXIT_USER = 3 };

static void usage(FILE *out)
{
    fputs("Usage: signald user add NAME [--admin] [--display-name TEXT] --password-file FILE\n"
          "       signald user passwd NAME --password-file FILE\n"
          "       signald user disable NAME | enable NAME | list\n"
          "Options: -d, --data-dir DIR (default /var/lib/lanturn), -c, --config FILE,\n"
          "         --scrypt-n N. FILE '-' reads the password from standard input.\n",
          out);
}

static int read_password(const char *path, char *buf, size_t cap)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "signald: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    if (f != stdin)
        fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* 0, or the exit code for a password that cannot be read or used. */
static int read_new_password(const char *path, char *buf, size_t cap)
{
    const char *why;
    if (read_password(path, buf, cap) != 0)
        return 1;
    if (sig_password_acceptable(buf, &why) != 0) {
        fprintf(stderr, "signald: %s\n", why);
        return EXIT_USAGE;
    }
    return 0;
}

static int store_password(struct sto_db *db, int64_t id, const char *password,
                          const struct sig_kdf *kdf)
{
    struct sig_password_hash h;
    if (sig_password_hash(password, kdf, &h) != 0)
        return -EIO;
    struct sto_password pw = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    return sto_user_set_password(db, id, &pw);
}

int sig_admin_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"admin", no_argument, NULL, 'a'},
        {"display-name", required_argument, NULL, 'n'},
        {"password-file", required_argument, NULL, 'p'},
        {"scrypt-n", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct sig_config cfg;
    sig_config_defaults(&cfg);
    const char *display = NULL, *pwfile = NULL, *data_dir = NULL;
    bool admin = false;
    int c, rc = 1;
    char err[512];
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'c': {
            char *args[] = {"signald", "--config", optarg, NULL};
            enum sig_cfg_action action;
            sig_config_release(&cfg);
            int save = optind;
            if (sig_config_from_args(&cfg, 3, args, stdout, &action, err, sizeof err) != 0) {
                fprintf(stderr, "signald: %s\n", err);
                sig_config_release(&cfg);
                return 1;
            }
            optind = save;
            break;
        }
        case 'a': admin = true; break;
        case 'n': display = optarg; break;
        case 'p': pwfile = optarg; break;
        case 's': {
            cfg.api.kdf.n = strtoull(optarg, NULL, 10);
            if (sig_kdf_check(&cfg.api.kdf) != 0) {
                fprintf(stderr, "signald: --scrypt-n: a power of two >= %d\n", SIG_KDF_MIN_N);
                sig_config_release(&cfg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h':
            usage(stdout);
            sig_config_release(&cfg);
            return 0;
        default:
            usage(stderr);
            sig_config_release(&cfg);
            return EXIT_USAGE;
        }
    }
    /* getopt_long has moved the words after the options: user VERB [NAME] */
    const char *verb = optind + 1 < argc ? argv[optind + 1] : NULL;
    const char *name = optind + 2 < argc ? argv[optind + 2] : NULL;
    bool needs_name = verb && strcmp(verb, "list") != 0;
    if (!verb || (needs_name && !name) ||
        ((strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) && !pwfile)) {
        usage(stderr);
        sig_config_release(&cfg);
        return EXIT_USAGE;
    }
    struct sto_db *db = NULL;
    if (sto_open(data_dir ? data_dir : cfg.data_dir, &db, err, sizeof err) != 0) {
        fprintf(stderr, "signald: %s\n", err);
        sig_config_release(&cfg);
        return 1;
    }
    char password[SIG_PASSWORD_MAX_LEN + 2] = "";
    struct sto_user u = {0};
    int e;
    if (strcmp(verb, "list") == 0) {
        struct sto_user *list = NULL;
        size_t n = 0;
        int64_t after = 0;
        rc = 0;
        do {
            if (sto_user_list(db, after, 500, &list, &n) != 0) {
                fprintf(stderr, "signald: %s\n", sto_errmsg(db));
                rc = 1;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                printf("%" PRId64 "\t%s\t%s%s\t%s\n", list[i].id, list[i].name,
                       list[i].is_admin ? "admin" : "user", list[i].disabled ? ",disabled" : "",
                       list[i].display_name);
                after = list[i].id;
            }
            sto_users_free(list, n);
        } while (n == 500);
    } else if (strcmp(verb, "add") == 0) {
        if ((rc = read_new_password(pwfile, password, sizeof password)) != 0)
            goto out;
        rc = 1;
        struct sig_password_hash h;
        if (sig_password_hash(password, &cfg.api.kdf, &h) != 0) {
            fprintf(stderr, "signald: could not hash the password\n");
            goto out;
        }
        struct sto_password pw = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
        int64_t id;
        e = sto_user_create(db, name, display ? display : name, admin, &pw, &id);
        if (e == -EEXIST) {
            fprintf(stderr, "signald: user '%s' already exists\n", name);
            rc = EXIT_USER;
        } else if (e) {
            fprintf(stderr, "signald: cannot add '%s': %s\n", name, sto_errmsg(db));
        } else {
            sto_audit_append(db, 0, "user.create", name, admin ? "admin (cli)" : "cli");
            printf("added user %s (id %" PRId64 "%s)\n", name, id, admin ? ", admin" : "");
            rc = 0;
        }
    } else if (strcmp(verb, "passwd") == 0 || strcmp(verb, "disable") == 0 ||
               strcmp(verb, "enable") == 0) {
        if ((e = sto_user_by_name(db, name, &u)) != 0) {
            fprintf(stderr, "signald: no user '%s'\n", name);
            rc = e == -ENOENT ? EXIT_USER : 1;
            goto out;
        }
        if (strcmp(verb, "passwd") == 0) {
            if ((rc = read_new_password(pwfile, password, sizeof password)) != 0)
                goto out;
            rc = 1;
            e = store_password(db, u.id, password, &cfg.api.kdf);
            if (e == 0)
                e = sto_session_revoke_user(db, u.id, 0, NULL);
        } else {
            e = sto_user_set_disabled(db, u.id, strcmp(verb, "disable") == 0);
        }
        if (e) {
            fprintf(stderr, "signald: %s failed: %s\n", verb, sto_errmsg(db));
        } else {
            sto_audit_append(db, 0, strcmp(verb, "passwd") == 0 ? "user.password" : "user.disable",
                             name, verb);
            printf("%s: done for %s\n", verb, name);
            rc = 0;
        }
    } else {
        usage(stderr);
        rc = EXIT_USAGE;
    }
out:
    memset(password, 0, sizeof password);
    sto_user_clear(&u);
    sto_close(db);
    sig_config_release(&cfg);
    return rc;
}
