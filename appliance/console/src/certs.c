#include "console.h"
void con_certs_get(struct console *c, const struct con_req *r, const struct con_admin *who, json_t *body, struct con_reply *out) { (void)c; (void)r; (void)who; (void)body; con_error(out, 501, "not_implemented", "not available in this version yet"); }
void con_certs_upload(struct console *c, const struct con_req *r, const struct con_admin *who, json_t *body, struct con_reply *out) { (void)c; (void)r; (void)who; (void)body; con_error(out, 501, "not_implemented", "not available in this version yet"); }
void con_certs_selfsigned(struct console *c, const struct con_req *r, const struct con_admin *who, json_t *body, struct con_reply *out) { (void)c; (void)r; (void)who; (void)body; con_error(out, 501, "not_implemented", "not available in this version yet"); }
