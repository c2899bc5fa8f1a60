/*
 * fuzz_file_name.c - libFuzzer harness for what signald does with a file
 * upload's client-supplied parts: the name (made safe to store and to put in
 * a Content-Disposition header) and the first bytes (type sniffing).
 * Checks: the name is never empty, ".", "..", never holds a path separator,
 * a control character or a quote, is at most 255 bytes, and never ends in a
 * cut UTF-8 sequence; sniffing only ever answers one of its known types.
 */
#include <stdint.h>
#include "fuzz_check.h"
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_tail_complete(const unsigned char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && (s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || i == n)
        return 1;
    unsigned lead = s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (i - 1) == need || lead < 0x80;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char out[256];
    sig_api_clean_file_name(in, out, sizeof out);
    size_t n = strlen(out);
    CHECK(n >= 1 && n <= 255);
    CHECK(strcmp(out, ".") != 0 && strcmp(out, "..") != 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        CHECK(c >= 0x20 && c != 0x7F && c != '"' && c != '/' && c != '\\');
    }
    CHECK(utf8_tail_complete((const unsigned char *)out, n));
    const char *mime = sig_api_sniff_mime(data, size);
    CHECK(!mime || !strcmp(mime, "image/png") || !strcmp(mime, "image/jpeg") ||
          !strcmp(mime, "image/gif") || !strcmp(mime, "image/webp") ||
          !strcmp(mime, "application/pdf"));
    free(in);
    return 0;
}
