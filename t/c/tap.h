/*
 * A small TAP producer for the C unit tests run by prove.
 */
#ifndef SPOOLD_TAP_H
#define SPOOLD_TAP_H

#include <stddef.h>
#include <stdint.h>

void	plan(int);
int	ok(int, const char *, ...) __attribute__((format(printf, 2, 3)));
int	is_int(int64_t, int64_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_str(const char *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	diag(const char *, ...) __attribute__((format(printf, 1, 2)));
void	skip_all(const char *);
int	done_testing(void);

#endif
