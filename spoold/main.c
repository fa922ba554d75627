/*
 * spoold: a durable spool for mail server log hooks.
 *
 * Start-up order matters: sockets are bound while still privileged,
 * privileges are dropped, the process daemonizes, and only then are the
 * spool opened and threads started, so that no LMDB environment and no
 * thread ever crosses a fork().
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "config.h"
#include "control.h"
#include "ctlhttp.h"
#include "listen.h"
#include "ingest.h"
#include "launcher.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "scheduler.h"
#include "server.h"
#include "source.h"
#include "spoold.h"
#include "transport.h"
#include "util.h"

#define MAXLISTEN	64
#define FD_RESERVE	1024

struct spoold		*sd;

static volatile sig_atomic_t	 sig_term, sig_hup, sig_chld;

static const char	*conf_path = CONFIG_PATH;
static int		 listen_fds[MAXLISTEN];
static size_t		 nlisteners;
static int		 control_fd = -1;
static struct MHD_Daemon *control_d;

/*
 * Reloads asked over the control socket, and their outcome. Only the main
 * thread reloads; a request counts itself in asked and waits until a
 * reload that began after it is done.
 */
static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 done_cond;
	uint64_t	 asked;
	uint64_t	 done;		/* asked, as a reload began */
	int		 refused;
	int		 closed;	/* stopping: nobody reloads any more */
	char		 msg[1024];	/* why refused, or what was not taken */
} rl = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: spoold [-dnv] [-f config]\n");
	exit(2);
}

static void
sighandler(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		sig_term = 1;
		break;
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGCHLD:
		sig_chld = 1;
		break;
	}
}

/* Directories made here, to hand to the unprivileged user. */
static char		*made_dirs[4];
static size_t		 nmade;

static void
mkparent(const char *path)
{
	char	 dir[PATH_MAX], *slash;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		fatalx("%s: path too long", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		if (nmade < sizeof(made_dirs) / sizeof(made_dirs[0]) &&
		    (made_dirs[nmade] = strdup(dir)) != NULL)
			nmade++;
	} else if (errno != EEXIST)
		fatal("mkdir %s", dir);
}

static void
bind_sockets(const struct config *conf)
{
	struct listen_addr	 ctl;
	char			 err[512];
	size_t			 i;

	if (conf->nlisten > MAXLISTEN)
		fatalx("at most %d listen addresses", MAXLISTEN);
	for (i = 0; i < conf->nlisten; i++) {
		if (conf->listen[i].path != NULL)
			mkparent(conf->listen[i].path);
		if ((listen_fds[i] = listen_socket(&conf->listen[i], 0660, err,
		    sizeof(err))) == -1)
			fatalx("listen %s", err);
	}
	nlisteners = conf->nlisten;
	memset(&ctl, 0, sizeof(ctl));
	ctl.path = conf->control_socket;
	mkparent(ctl.path);
	if ((control_fd = listen_socket(&ctl, 0600, err, sizeof(err))) == -1)
		fatalx("control socket %s", err);
}

/* Who spoold runs as once it dropped privileges. */
static void
identity(const struct config *conf, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if (conf->user != NULL && (pw = getpwnam(conf->user)) != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	} else {
		*uid = geteuid();
		*gid = getegid();
	}
}

static void
warn_stderr(const char *msg)
{
	fprintf(stderr, "spoold: %s\n", msg);
}

/* syslog takes one line a message: a warning's lines go one by one. */
static void
warn_log(const char *msg)
{
	const char	*nl;

	for (; (nl = strchr(msg, '\n')) != NULL; msg = nl + 1)
		log_warnx("%.*s", (int)(nl - msg), msg);
	log_warnx("%s", msg);
}

/*
 * Warn of settings taken but probably not meant; as ssh does of a key,
 * when the file shows its secrets to others; and when spoold, as uid and
 * gid, could not read it again to reload.
 */
static void
check_file(const struct config *conf, uid_t uid, gid_t gid,
    void (*warn)(const char *))
{
	char	 msg[1024];
	size_t	 i;

	for (i = 0; i < conf->nwarnings; i++)
		warn(conf->warnings[i]);
	if (config_exposed(conf, uid, gid, msg, sizeof(msg)))
		warn(msg);
	if (config_unreadable(conf, uid, gid, msg, sizeof(msg)))
		warn(msg);
}

/* The spool directory is made here, as root, for the unprivileged user. */
static void
drop_privileges(const struct config *conf)
{
	struct passwd	*pw;
	size_t		 i;

	if (conf->user == NULL)
		return;
	if ((pw = getpwnam(conf->user)) == NULL)
		fatalx("user %s: no such user", conf->user);
	if (geteuid() != 0)
		fatalx("user %s: only root can switch users", conf->user);
	if (mkdir(conf->spool_dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", conf->spool_dir);
	/* The user must be able to remove its sockets and pid file at exit. */
	if (chown(conf->spool_dir, pw->pw_uid, pw->pw_gid) == -1 ||
	    chown(conf->control_socket, pw->pw_uid, pw->pw_gid) == -1)
		fatal("chown");
	for (i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].path != NULL &&
		    chown(conf->listen[i].path, pw->pw_uid, pw->pw_gid) == -1)
			fatal("chown %s", conf->listen[i].path);
	for (i = 0; i < nmade; i++)
		if (chown(made_dirs[i], pw->pw_uid, pw->pw_gid) == -1)
			fatal("chown %s", made_dirs[i]);
	/* Its groups too: a source may read the MTA's logs through one. */
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", conf->user);
}

/*
 * Fork into the background. The parent exits only once the child says
 * it is serving (0) or has failed (1), so init systems see the truth.
 * Returns the fd the child writes its word to.
 */
static int
daemonize(void)
{
	int	 p[2], fd;
	pid_t	 pid;
	char	 c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return p[1];
}

static void
write_pidfile(const char *path)
{
	FILE	*fp;

	mkparent(path);
	if ((fp = fopen(path, "w")) == NULL)
		fatal("%s", path);
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) == EOF)
		fatal("%s", path);
}

/*
 * Every ingest connection is a descriptor: make room for max_connections
 * and what spoold holds besides (spool, workers' sockets, logs). Root
 * may raise the hard limit too, up to what the kernel allows.
 */
static uint64_t
raise_nofile(uint64_t conns)
{
	struct rlimit	 lim;
	rlim_t		 want = (rlim_t)conns + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &lim) == -1)
		fatal("getrlimit");
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want &&
	    geteuid() == 0) {
		lim.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &lim) == -1 &&
		    getrlimit(RLIMIT_NOFILE, &lim) == -1)
			fatal("getrlimit");
	}
	if (lim.rlim_cur < want) {
		lim.rlim_cur = lim.rlim_max != RLIM_INFINITY &&
		    lim.rlim_max < want ? lim.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &lim) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
		if (getrlimit(RLIMIT_NOFILE, &lim) == -1)
			fatal("getrlimit");
	}
	if (lim.rlim_cur >= want)
		return conns;
	conns = lim.rlim_cur > 2 * FD_RESERVE ? lim.rlim_cur - FD_RESERVE :
	    lim.rlim_cur / 2;
	log_warnx("max_connections lowered to %llu: the open file limit is "
	    "%llu", (unsigned long long)conns,
	    (unsigned long long)lim.rlim_cur);
	return conns;
}

static void
start_serving(const struct config *conf, uint64_t max_conns)
{
	struct server_conf	 sc;
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&sc, 0, sizeof(sc));
	sc.threads = ncpu > 0 ? (unsigned int)ncpu : 1;
	sc.max_connections = (size_t)max_conns;
	sc.max_per_client = (size_t)conf->max_connections_per_client;
	sc.idle_ms = conf->client_idle_timeout_ms;
	sc.header_ms = conf->client_header_timeout_ms;
	if (server_start(listen_fds, nlisteners, &sc, &ingest_handler) == -1)
		fatal("cannot start the ingest server");
	if ((control_d = ctl_serve(control_fd, control_handler,
	    NULL)) == NULL)
		fatalx("cannot start the control socket");
}

static int
differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static int
needs_restart(const struct config *a, const struct config *b)
{
	size_t	 i;

	if (a->nlisten != b->nlisten)
		return 1;
	for (i = 0; i < a->nlisten; i++)
		if (differ(a->listen[i].text, b->listen[i].text))
			return 1;
	return differ(a->spool_dir, b->spool_dir) ||
	    differ(a->control_socket, b->control_socket) ||
	    differ(a->pid_file, b->pid_file) || differ(a->user, b->user) ||
	    a->max_spool_size != b->max_spool_size ||
	    a->max_connections != b->max_connections ||
	    a->max_connections_per_client != b->max_connections_per_client ||
	    a->client_idle_timeout_ms != b->client_idle_timeout_ms ||
	    a->client_header_timeout_ms != b->client_header_timeout_ms;
}

/*
 * The configuration, with what only the transports' libraries can judge
 * (a broker url, a librdkafka property) judged before a worker needs it.
 */
static struct config *
load_config(char *err, size_t errlen)
{
	struct config	*conf;
	char		 why[512];
	size_t		 i;

	if ((conf = config_load(conf_path, err, errlen)) == NULL)
		return NULL;
	for (i = 0; i < conf->nhooks; i++) {
		if (transport_check(&conf->hooks[i], why, sizeof(why)) == 0)
			continue;
		snprintf(err, errlen, "%s: hook %s: %s", conf_path,
		    conf->hooks[i].name, why);
		config_free(conf);
		return NULL;
	}
	return conf;
}

/*
 * Returns 0, or -1 with why in err; warn says what changes only on
 * restart. The configuration is read again by path, as spoold's user:
 * an fd kept from before the privilege drop would go on reading a file
 * that an editor or a deployment tool replaced by rename(2), so the file
 * is installed readable by the user's group instead (spoold(8)).
 */
static int
reload_config(char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct config	*conf;
	struct live	*old, *rt;
	struct passwd	*pw;
	struct group	*gr;
	uid_t		 uid = geteuid();
	size_t		 n;

	if ((conf = load_config(err, errlen)) == NULL) {
		if (uid != 0 && access(conf_path, R_OK) == -1 &&
		    errno == EACCES && (n = strlen(err)) < errlen)
			snprintf(err + n, errlen - n, " (spoold runs as %s: "
			    "make the file root:%s, mode 0640)",
			    (pw = getpwuid(uid)) ? pw->pw_name : "its user",
			    (gr = getgrgid(getegid())) ? gr->gr_name :
			    "its group");
		return -1;
	}
	check_file(conf, uid, getegid(), warn_log);
	old = live_get();
	if (needs_restart(old->conf, conf))
		snprintf(warn, warnlen, "listen, spool_dir, max_spool_size, "
		    "control_socket, pid_file, user, max_connections, "
		    "max_connections_per_client, client_idle_timeout and "
		    "client_header_timeout change only on restart");
	live_put(old);
	if ((rt = live_make(conf, sd->store, err, errlen)) == NULL)
		return -1;
	live_set(rt);
	sched_reload();
	sources_reload();
	return 0;
}

static void
reload(void)
{
	char		 err[1024], warn[256];
	uint64_t	 asked;
	int		 rc;

	pthread_mutex_lock(&rl.lock);
	asked = rl.asked;
	pthread_mutex_unlock(&rl.lock);
	warn[0] = '\0';
	if ((rc = reload_config(err, sizeof(err), warn, sizeof(warn))) == -1)
		log_warnx("reload refused, running configuration kept: %s",
		    err);
	else {
		if (warn[0] != '\0')
			log_warnx("reload: %s", warn);
		log_info("configuration reloaded");
	}
	pthread_mutex_lock(&rl.lock);
	rl.done = asked;
	rl.refused = rc == -1;
	snprintf(rl.msg, sizeof(rl.msg), "%s", rc == -1 ? err : warn);
	pthread_cond_broadcast(&rl.done_cond);
	pthread_mutex_unlock(&rl.lock);
}

/*
 * For the control socket: have the main thread reload, as on SIGHUP, and
 * wait for the outcome, at most RELOAD_WAIT_S, since the thread asking
 * holds a connection and must end before spoold can stop.
 */
int
reload_wait(char *msg, size_t len)
{
	struct timespec	 until;
	uint64_t	 mine;
	int		 rc = RELOAD_UNKNOWN, e = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += RELOAD_WAIT_S;
	pthread_mutex_lock(&rl.lock);
	mine = ++rl.asked;
	if (!rl.closed && kill(getpid(), SIGHUP) == -1)
		e = errno;
	while (!rl.closed && rl.done < mine && e == 0)
		e = pthread_cond_timedwait(&rl.done_cond, &rl.lock, &until);
	if (rl.done >= mine) {
		rc = rl.refused ? RELOAD_REFUSED : RELOAD_DONE;
		snprintf(msg, len, "%s", rl.msg);
	} else if (rl.closed)
		snprintf(msg, len, "spoold is stopping");
	else if (e == ETIMEDOUT)
		snprintf(msg, len, "no outcome after %d seconds; see the log",
		    RELOAD_WAIT_S);
	else
		snprintf(msg, len, "cannot signal spoold: %s", strerror(e));
	pthread_mutex_unlock(&rl.lock);
	return rc;
}

static void
reload_init(void)
{
	pthread_condattr_t	 ca;

	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&rl.done_cond, &ca) != 0)
		fatalx("cannot make a condition variable");
	pthread_condattr_destroy(&ca);
}

/* Those waiting for a reload hear that none will come, and let go. */
static void
reload_close(void)
{
	pthread_mutex_lock(&rl.lock);
	rl.closed = 1;
	pthread_cond_broadcast(&rl.done_cond);
	pthread_mutex_unlock(&rl.lock);
}

static uint64_t
shutdown_timeout(void)
{
	struct live	*rt = live_get();
	uint64_t	 ms = 30000;
	size_t		 h;

	for (h = 0; h < rt->conf->nhooks; h++)
		if (h == 0 || rt->conf->hooks[h].shaping.
		    system_shutdown_timeout_ms > ms)
			ms = rt->conf->hooks[h].shaping.
			    system_shutdown_timeout_ms;
	live_put(rt);
	return ms;
}

/*
 * Answer new requests 503, let those under way finish (bounded by
 * system_shutdown_timeout), then stop. Anything not answered 200 was not
 * promised to anyone.
 */
static void
shutdown_daemon(void)
{
	struct timespec	 tick = { 0, 5 * 1000 * 1000 };
	uint64_t	 deadline;
	
	/* Listeners stay open: a producer hears 503 and Retry-After. */
	atomic_store(&sd->stopping, 1);
	/* What a source has committed is its checkpoint: it can stop now. */
	sources_stop();
	deadline = mono_ms() + shutdown_timeout();
	while (atomic_load(&sd->inflight) > 0 && mono_ms() < deadline)
		nanosleep(&tick, NULL);
	if (atomic_load(&sd->inflight) > 0)
		log_warnx("stopping with %ld requests unanswered",
		    atomic_load(&sd->inflight));
	/* Deliveries under way get what is left of the same time. */
	sched_stop(deadline);
	pool_fini();
	server_stop();
	ctl_stop(control_d);
	commit_stop();
}

static void
reap_children(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	store_reader_check(sd->store);
}

static void
serve(void)
{
	sigset_t	 none;

	sigemptyset(&none);
	while (!sig_term) {
		sigsuspend(&none);
		if (sig_hup) {
			sig_hup = 0;
			reload();
		}
		if (sig_chld) {
			sig_chld = 0;
			reap_children();
		}
	}
	reload_close();
	log_info("stopping");
}

static void
setup_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighandler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Only the main thread, in sigsuspend(), takes these. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void
cleanup(struct config *conf, int daemonized)
{
	size_t	 i;

	for (i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].path != NULL)
			unlink(conf->listen[i].path);
	unlink(conf->control_socket);
	if (daemonized)
		unlink(conf->pid_file);
}

int
main(int argc, char *argv[])
{
	struct config	*conf;
	struct live	*rt;
	char		 err[1024];
	uid_t		 uid;
	gid_t		 gid;
	int		 ch, debug = 0, check = 0, verbose = 0, ready = -1;
	char		 v[16];
	uint64_t	 max_conns;

	/* spoold executes itself as the launcher of its workers. */
	if (argc > 0 && strcmp(argv[0], LAUNCHER_TITLE) == 0)
		return launcher_main(argc, argv);
	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(1, verbose, "spoold");
	if ((conf = load_config(err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		identity(conf, &uid, &gid);
		check_file(conf, uid, gid, warn_stderr);
		config_print(conf, stdout);
		printf("configuration OK\n");
		config_free(conf);
		return 0;
	}
	setup_signals();
	max_conns = raise_nofile(conf->max_connections);
	bind_sockets(conf);
	if (!debug) {
		ready = daemonize();
		log_init(0, verbose, "spoold");
		write_pidfile(conf->pid_file);
	}
	drop_privileges(conf);
	check_file(conf, geteuid(), getegid(), warn_log);
	/* What the workers need to log as spoold does. */
	snprintf(v, sizeof(v), "%d", verbose);
	setenv("SPOOLD_VERBOSE", v, 1);
	setenv("SPOOLD_FOREGROUND", debug ? "1" : "0", 1);
	/* Before any thread or spool exists to be forked. */
	pool_init();
	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		fatal("calloc");
	pthread_mutex_init(&sd->lock, NULL);
	sd->started_ms = now_ms();
	if ((sd->store = store_open(conf->spool_dir, conf->max_spool_size,
	    err, sizeof(err))) == NULL)
		fatalx("spool %s", err);
	if ((rt = live_make(conf, sd->store, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	live_set(rt);
	reload_init();
	commit_start(sd->store, sched_ingested);
	sched_start();
	sources_start();
	start_serving(conf, max_conns);
	log_info("spoold %s ready", SPOOLD_VERSION);
	if (ready != -1) {
		if (write(ready, "1", 1) != 1)
			log_warn("readiness pipe");
		close(ready);
	}
	serve();
	shutdown_daemon();
	rt = live_get();
	cleanup(rt->conf, !debug);
	live_put(rt);
	live_set(NULL);
	store_close(sd->store);
	pthread_mutex_destroy(&sd->lock);
	free(sd);
	return 0;
}
