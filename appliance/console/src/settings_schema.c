/*
 * settings_schema.c - help text for every setting of the one config file
 * (docs/turnd.md, docs/signald.md, docs/lanturn-console.md say more).
 */
#include "settings_schema.h"

#include <stddef.h>

const struct con_group_doc CON_GROUPS[] = {
    {"appliance", "Appliance", NULL,
     "applianced's own settings. They apply when the appliance restarts (systemctl restart lanturn)."},
    {"turnd", "TURN server", "turnd", "STUN/TURN relay for calls. Saving restarts turnd: calls in "
     "progress reconnect through TURN."},
    {"signal", "Chat service", "signald", "signald: chat, files, call signalling and the web "
     "client. Saving restarts signald: clients reconnect by themselves."},
    {"console", "Admin console", NULL, "This console. Changes apply when lanturn-console restarts "
     "(Dashboard → Restart)."},
    {NULL, NULL, NULL, NULL},
};

const struct con_setting_doc CON_SETTINGS[] = {
    {"appliance", "hostname", CON_S_STRING, "Name in the self-signed certificate (default: this host's name)."},
    {"appliance", "control_socket", CON_S_STRING, "Unix socket where appliancectl and this console reach applianced."},
    {"appliance", "state_dir", CON_S_STRING, "Where applianced keeps its state (initial admin password)."},
    {"appliance", "turnd", CON_S_STRING, "Path of the turnd binary."},
    {"appliance", "signald", CON_S_STRING, "Path of the signald binary."},
    {"appliance", "admin_password_file", CON_S_STRING, "First administrator's password file (first start only)."},

    {"turnd", "listen", CON_S_LIST, "UDP and TCP addresses, IP:PORT, e.g. 192.0.2.10:3478."},
    {"turnd", "relay_ip", CON_S_LIST, "Relay addresses, one per family (IPv4 and/or IPv6)."},
    {"turnd", "relay_ports", CON_S_STRING, "Relay port range LO-HI, e.g. 49152-65535. Open it in firewalls."},
    {"turnd", "realm", CON_S_STRING, "Authentication realm."},
    {"turnd", "secret_file", CON_S_STRING, "Shared secret for time-limited credentials; must equal signal.turn_secret_file."},
    {"turnd", "tcp", CON_S_BOOL, "Serve TURN over TCP on the listen addresses too."},
    {"turnd", "tls_listen", CON_S_LIST, "TLS addresses (default: listen addresses on port 5349)."},
    {"turnd", "tls_cert", CON_S_STRING, "PEM certificate chain for TURN over TLS."},
    {"turnd", "tls_key", CON_S_STRING, "PEM private key for TURN over TLS."},
    {"turnd", "dtls", CON_S_BOOL, "Serve TURN over DTLS (UDP) beside TLS, with the same certificate."},
    {"turnd", "dtls_listen", CON_S_LIST, "DTLS addresses (default: the TLS addresses, over UDP)."},
    {"turnd", "max_dtls_sessions", CON_S_INT, "DTLS sessions at once (each holds about 100 KB)."},
    {"turnd", "metrics_listen", CON_S_STRING, "Prometheus metrics over HTTP, IP:PORT (empty = off); keep it local."},
    {"turnd", "allow_peer", CON_S_LIST, "Peer ranges (CIDR) allowed even when denied below."},
    {"turnd", "deny_peer", CON_S_LIST, "Peer ranges (CIDR) relays may never reach."},
    {"turnd", "closed_loop", CON_S_BOOL, "Relay only between this appliance's own clients."},
    {"turnd", "client_subnets", CON_S_LIST, "Client networks (CIDR) for closed-loop relaying."},
    {"turnd", "max_allocations", CON_S_INT, "Allocations on the server, 0 = unlimited."},
    {"turnd", "user_quota", CON_S_INT, "Allocations per user, 0 = unlimited."},
    {"turnd", "alloc_bandwidth", CON_S_INT, "Bytes per second per allocation, 0 = unlimited."},
    {"turnd", "user_bandwidth", CON_S_INT, "Bytes per second per user, 0 = unlimited."},
    {"turnd", "max_tcp_connections", CON_S_INT, "TCP peer connections per TCP allocation (RFC 6062)."},
    {"turnd", "max_connections", CON_S_INT, "TCP and TLS connections at once."},
    {"turnd", "idle_timeout", CON_S_INT, "Seconds before an idle TCP/TLS connection without allocation closes."},
    {"turnd", "lifetime_default", CON_S_INT, "Default allocation lifetime, seconds."},
    {"turnd", "lifetime_max", CON_S_INT, "Longest allocation lifetime, seconds."},
    {"turnd", "auth_fail_limit", CON_S_INT, "Failed authentications per address before it is refused, 0 = off."},
    {"turnd", "auth_fail_window", CON_S_INT, "Window of auth_fail_limit, seconds."},
    {"turnd", "unauth_answer_limit", CON_S_INT, "Unsigned UDP answers per address per window, 0 = off."},
    {"turnd", "unauth_answer_window", CON_S_INT, "Window of unauth_answer_limit, seconds."},
    {"turnd", "log_level", CON_S_STRING, "error, warn, info or debug."},

    {"signal", "listen", CON_S_STRING, "HTTPS address of the web client and API, IP:PORT."},
    {"signal", "ws_listen", CON_S_STRING, "WebSocket-only address, IP:PORT (port 0 = off)."},
    {"signal", "data_dir", CON_S_STRING, "Database and files."},
    {"signal", "tls_cert", CON_S_STRING, "PEM certificate chain (Certificates page replaces it)."},
    {"signal", "tls_key", CON_S_STRING, "PEM private key."},
    {"signal", "web_root", CON_S_STRING, "The browser client's files."},
    {"signal", "turn_urls", CON_S_LIST, "TURN URLs handed to clients, e.g. turn:192.0.2.10:3478?transport=udp."},
    {"signal", "turn_secret_file", CON_S_STRING, "The secret shared with turnd."},
    {"signal", "turn_ttl", CON_S_INT, "Lifetime of TURN credentials, seconds."},
    {"signal", "ice_transport_policy", CON_S_STRING, "relay (media only through TURN) or all."},
    {"signal", "file_max_mb", CON_S_INT, "Largest file users may share, MiB."},
    {"signal", "self_registration", CON_S_BOOL, "Let anyone create an account (off: administrators create them)."},
    {"signal", "session_days", CON_S_INT, "Days a chat sign-in lasts."},
    {"signal", "max_connections", CON_S_INT, "WebSocket connections at once."},
    {"signal", "ring_timeout", CON_S_INT, "Seconds a call rings before it is missed."},
    {"signal", "rate_per_second", CON_S_INT, "Requests per second per connection."},
    {"signal", "rate_burst", CON_S_INT, "Burst of requests per connection."},
    {"signal", "max_frame_kb", CON_S_INT, "Largest WebSocket frame, KiB."},
    {"signal", "password_scrypt_n", CON_S_INT, "Password hashing cost (a power of two, at least 16384)."},
    {"signal", "log_level", CON_S_STRING, "error, warn, info or debug."},

    {"console", "listen", CON_S_STRING, "HTTPS address of this console, IP:PORT (default 0.0.0.0:8443)."},
    {"console", "tls_cert", CON_S_STRING, "Certificate (default: signal.tls_cert)."},
    {"console", "tls_key", CON_S_STRING, "Private key (default: signal.tls_key)."},
    {"console", "web_root", CON_S_STRING, "The console's own files."},
    {"console", "control_socket", CON_S_STRING, "applianced's socket (default: appliance.control_socket)."},
    {"console", "data_dir", CON_S_STRING, "The database (default: signal.data_dir)."},
    {"console", "applianced", CON_S_STRING, "applianced binary, which checks edited configurations."},
    {"console", "idle_minutes", CON_S_INT, "Minutes without activity before a console session ends."},
    {"console", "session_hours", CON_S_INT, "Hours after which a console session ends anyway."},
    {"console", "log_level", CON_S_STRING, "error, warn, info or debug."},
    {NULL, NULL, 0, NULL},
};
