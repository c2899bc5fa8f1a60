/*
 * admin.h - `signald user ...`: account administration on the data directory
 * directly, for scripts and first setup. Exit codes: 0 done, 1 error, 2 usage,
 * 3 the user exists (add) or does not exist (others).
 */
#ifndef SIG_ADMIN_H
#define SIG_ADMIN_H

int sig_admin_main(int argc, char **argv);

#endif
