#!/bin/sh
# valgrind-signald.sh SIGNALD ARGS...: run signald under memcheck; any error or
# definite/indirect leak makes it exit 99, which the protocol test asserts against.
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --track-fds=no "$@"
