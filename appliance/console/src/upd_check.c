/*
 * upd_check.c - what the console checks about an uploaded update before
 * RAUC sees it (see console.h): the browser's file name, which is only shown
 * and logged and must never look like a path, and whether the file is shaped
 * like a signed RAUC bundle. No I/O, so unit tests call them directly.
 */
#include "console.h"

#include <errno.h>
#include <string.h>

int con_update_name_check(const char *name, const char **why)
{
    static const char suffix[] = ".raucb";
    size_t n = name ? strlen(name) : 0;
    if (n == 0) {
        *why = "the file name is missing (?name=)";
        return -EINVAL;
    }
    if (n > CON_UPDATE_NAME_MAX) {
        *why = "the file name is too long";
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || strchr("._-+~ ()", ch);
        if (!plain) {
            *why = ch == '/' || ch == '\\' ? "the file name must not contain a path"
                                           : "the file name contains characters a bundle's "
                                             "name never has";
            return -EINVAL;
        }
    }
    if (name[0] == '.' || strstr(name, "..")) {
        *why = "the file name must not contain a path";
        return -EINVAL;
    }
    if (n <= sizeof suffix - 1 || strcmp(name + n - (sizeof suffix - 1), suffix) != 0) {
        *why = "an update bundle's name ends in .raucb";
        return -EINVAL;
    }
    return 0;
}

int con_update_bundle_check(const uint8_t head[4], const uint8_t tail[8], uint64_t size,
                            const char **why)
{
    /* A RAUC bundle is a SquashFS image ("hsqs") followed by its CMS
     * signature and the signature's size as a big-endian 64-bit number. */
    if (size < 4096 || memcmp(head, "hsqs", 4) != 0) {
        *why = "this file is not a lanturn update bundle (.raucb): it does not start like one";
        return -EINVAL;
    }
    uint64_t sig = 0;
    for (int i = 0; i < 8; i++)
        sig = sig << 8 | tail[i];
    if (sig == 0 || sig >= size - 8) {
        *why = "this update bundle carries no signature";
        return -EINVAL;
    }
    return 0;
}
