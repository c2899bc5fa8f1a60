/* config.c - defaults and ownership of struct turn_core_config. */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void turn_core_config_defaults(struct turn_core_config *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->realm, "lanturn");
    strcpy(c->software, "lanturn-turnd");
    c->port_lo = 49152;
    c->port_hi = 65535;
    c->lifetime_default = 600; /* RFC 8656 §3.2 */
    c->lifetime_max = 3600;
    c->perm_lifetime = 300; /* RFC 8656 §9 */
    c->chan_lifetime = 600; /* RFC 8656 §12 */
    c->nonce_lifetime = 600;
    c->max_permissions = 256; /* ICE with many candidates stays far below */
    c->max_channels = 256;
    c->max_tcp_connections = 64; /* RFC 6062 peer connections per TCP allocation */
    c->auth_fail_limit = 20; /* generous: a NAT'ed office shares one address */
    c->auth_fail_window = 60;
    /* 100 answers/s per address on average: far above what clients behind
     * one NAT need (one challenge per allocation), a few kB/s at most when
     * the source is forged. */
    c->unauth_answer_limit = 1000;
    c->unauth_answer_window = 10;
    turn_policy_init(&c->policy);
}

int turn_core_config_add_user(struct turn_core_config *c, const char *name, const char *password)
{
    struct turn_user *users = realloc(c->users, (c->n_users + 1) * sizeof(*users));
    if (!users)
        return -ENOMEM;
    c->users = users;
    struct turn_user *u = &users[c->n_users];
    u->name = strdup(name);
    if (!u->name)
        return -ENOMEM;
    stun_long_term_key(name, c->realm, password, u->key);
    if (stun_password_key(STUN_PASSWORD_SHA256, name, c->realm, password, u->key_sha256) !=
            STUN_KEY_MAX ||
        stun_userhash(name, c->realm, u->userhash) != 0) {
        free(u->name);
        return -EIO;
    }
    c->n_users++;
    return 0;
}

int turn_core_config_set_secret(struct turn_core_config *c, const char *secret)
{
    char *copy = strdup(secret);
    if (!copy)
        return -ENOMEM;
    free(c->secret);
    c->secret = copy;
    return 0;
}

void turn_core_config_release(struct turn_core_config *c)
{
    for (unsigned i = 0; i < c->n_users; i++)
        free(c->users[i].name);
    free(c->users);
    c->users = NULL;
    c->n_users = 0;
    if (c->secret) {
        memset(c->secret, 0, strlen(c->secret));
        free(c->secret);
        c->secret = NULL;
    }
}
