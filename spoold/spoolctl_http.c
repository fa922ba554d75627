/*
 * spoold's control API: HTTP over the control socket, with libcurl.
 * A socket that is not there or that nobody listens on means spoold is
 * stopped: the reading commands then read the spool themselves.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "spoolctl.h"

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf	*b = arg;
	size_t		 n = size * nmemb;
	char		*p;

	if ((p = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, data, n);
	b->p = p;
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/*
 * Refused or no socket file: nobody serves it. Any other failure (a
 * socket spoolctl may not open, a broken answer) is an error.
 */
static int
unreachable(CURL *c, CURLcode rc)
{
	long	 err = 0;

	if (rc != CURLE_COULDNT_CONNECT)
		return 0;
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &err);
	return err == ENOENT || err == ECONNREFUSED;
}

/* One request to the control socket: the HTTP status, or UNREACHABLE. */
long
request(const char *method, const char *path, const char *body, size_t len,
    json_t **reply)
{
	struct curl_slist	*hdrs = NULL;
	struct buf		 b = { NULL, 0 };
	json_error_t		 jerr;
	CURL			*c;
	CURLcode		 rc;
	char			*url;
	long			 status = 0;

	if ((c = curl_easy_init()) == NULL)
		die("cannot initialise libcurl");
	if (asprintf(&url, "http://localhost%s", path) == -1)
		die("out of memory");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "POST") == 0) {
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/x-ndjson");
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		if (!unreachable(c, rc))
			die("cannot reach spoold at %s: %s", sock_path,
			    curl_easy_strerror(rc));
		status = UNREACHABLE;
	} else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(url);
	*reply = NULL;
	/* A record's strings may hold \u0000. */
	if (status != UNREACHABLE && (*reply = json_loads(b.p ? b.p : "",
	    JSON_ALLOW_NUL, &jerr)) == NULL)
		die("spoold answered %ld with no JSON", status);
	free(b.p);
	return status;
}

void
not_running(const char *what)
{
	die("spoold is not running (cannot reach %s): %s needs it",
	    sock_path, what);
}

const char *
reply_error(json_t *reply)
{
	const char	*e = json_string_value(json_object_get(reply, "error"));

	return e ? e : "unknown error";
}

/* Append "?key=value" or "&key=value" to the path in q, value escaped. */
void
path_arg(struct buf *q, const char *key, const char *val)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			*p;

	if ((p = realloc(q->p, q->len + strlen(key) + 3 * strlen(val) +
	    3)) == NULL)
		die("out of memory");
	q->p = p;
	p += q->len;
	*p++ = strchr(q->p, '?') ? '&' : '?';
	p = stpcpy(p, key);
	*p++ = '=';
	for (; (c = *val) != '\0'; val++) {
		if (strchr("-._~", c) != NULL || (c < 0x80 && isalnum(c)))
			*p++ = c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	q->len = p - q->p;
}

void
path_init(struct buf *q, const char *path, const char *hook)
{
	if ((q->p = strdup(path)) == NULL)
		die("out of memory");
	q->len = strlen(path);
	if (hook != NULL)
		path_arg(q, "hook", hook);
}

/* One request that changes the spool, whose answer must be 2xx. */
json_t *
call(const char *what, const char *method, struct buf *q)
{
	json_t	*reply;
	long	 status;

	status = request(method, q->p, NULL, 0, &reply);
	free(q->p);
	q->p = NULL;
	if (status == UNREACHABLE)
		not_running(what);
	if (status < 200 || status > 299)
		die("%s: %s", what, reply_error(reply));
	return reply;
}
