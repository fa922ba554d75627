/*
 * jansson as the oracle of the ingest scanner (common/jscan.c), for its
 * tests and its fuzzer.
 */
#ifndef SPOOLD_JSONORACLE_H
#define SPOOLD_JSONORACLE_H

#include <stddef.h>

#include <jansson.h>

/*
 * What the scanner must make of p: json_loadb with JSON_DECODE_ANY unset
 * and JSON_ALLOW_NUL, except that a raw NUL byte refuses the input and
 * \u0000 in a key is taken. jansson cannot hold such a key, so it comes
 * back with U+0001 in place of each NUL. NULL when the input is not JSON.
 */
json_t	*oracle_loadb(const char *p, size_t n, json_error_t *);

#endif
