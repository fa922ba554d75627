/*
 * libFuzzer harness for the TOML parser: any input must parse or fail
 * cleanly with a "FILE:LINE:COL: message" error, and a tree that parses
 * must hold together: positions in range, strings NUL-terminated at
 * their length, keys unique within each table, nesting bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

#define FUZZ_MAX_DEPTH	140

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_pos(const struct toml_pos *pos, size_t size)
{
	check(pos->file != NULL && strcmp(pos->file, "fuzz") == 0);
	check(pos->line >= 1 && (size_t)pos->line <= size + 1);
	check(pos->col >= 1 && (size_t)pos->col <= size + 1);
}

static void
walk(const struct toml_value *v, size_t size, int depth)
{
	const struct toml_kv	*kv;
	size_t			 i, j;

	check(depth <= FUZZ_MAX_DEPTH);
	check_pos(&v->pos, size);
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME:
		check(v->u.str.s != NULL && v->u.str.s[v->u.str.len] == '\0');
		check(v->type == TOML_STRING || strlen(v->u.str.s) ==
		    v->u.str.len);
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			walk(v->u.arr.v[i], size, depth + 1);
		break;
	case TOML_TABLE:
		for (i = 0; i < v->u.tab.n; i++) {
			kv = &v->u.tab.kv[i];
			check(kv->key != NULL && kv->key[kv->keylen] == '\0');
			check_pos(&kv->pos, size);
			/* Quadratic, so only for the small tables fuzzing makes. */
			for (j = 0; j < i && v->u.tab.n < 256; j++)
				check(v->u.tab.kv[j].keylen != kv->keylen ||
				    memcmp(v->u.tab.kv[j].key, kv->key,
				    kv->keylen) != 0);
			if (kv->keylen == strlen(kv->key))
				check(toml_get(v, kv->key) != NULL);
			walk(kv->val, size, depth + 1);
		}
		break;
	case TOML_INTEGER:
	case TOML_FLOAT:
		break;
	case TOML_BOOLEAN:
		check(v->u.b == 0 || v->u.b == 1);
		break;
	default:
		check(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value	*v;
	char			 err[256];

	v = toml_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (v == NULL) {
		check(strncmp(err, "fuzz:", 5) == 0 && strlen(err) > 10);
		return 0;
	}
	check(v->type == TOML_TABLE);
	walk(v, size, 0);
	toml_free(v);
	return 0;
}
