/*
 * fuzz_check.h - what every harness asserts with: CHECK aborts, so libFuzzer
 * reports the input as a crash and the replay test fails on it.
 */
#ifndef LANTURN_FUZZ_CHECK_H
#define LANTURN_FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#endif
