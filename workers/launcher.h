/*
 * The launcher: the process that forks delivery workers for spoold.
 */
#ifndef SPOOLD_LAUNCHER_H
#define SPOOLD_LAUNCHER_H

#define LAUNCHER_TITLE		"spoold: launcher"
/* Room in the launcher's argv for its workers' titles. */
#define LAUNCHER_TITLE_ROOM	512

/* Run the launcher on PROTO_FD; argv is its own, rewritten for titles. */
int	launcher_main(int argc, char *argv[]);

#endif
