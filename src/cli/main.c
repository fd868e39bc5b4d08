/* main.c - the ferry command: a table of subcommands, like git. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ferry/estc.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"ca", cmd_ca, "create a CA and issue member identities"},
    {"serve", cmd_serve, "run the peer daemon: share files, receive pushes"},
    {"send", cmd_send, "push files to a peer"},
    {"get", cmd_get, "pull files from a peer's share"},
    {"ls", cmd_ls, "list a peer's share"},
    {"echo-server", cmd_echo_server, "run a TLS echo server (diagnostic)"},
    {"echo", cmd_echo, "send lines to a TLS echo server (diagnostic)"},
    {"user", cmd_user, "manage authd's user accounts"},
    {"authd", cmd_authd, "run the enrollment server (EST over HTTPS)"},
    {"enroll", cmd_enroll, "get a certificate from authd for a new key"},
    {"renew", cmd_renew, "renew this identity's certificate with authd"},
    {"id", cmd_id, "show this identity: names, groups, chain, expiry"},
    {"crl", cmd_crl, "fetch the current revocation list from authd"},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: ferry <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(
		    f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'ferry <command> --help' shows a command's options; "
	           "the manual page docs/ferry.1 (man -l docs/ferry.1) has the "
	           "rest.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("ferry %s\n", FERRY_VERSION);
		return EXIT_OK;
	}
	/* A peer that hangs up must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			int ret;

			/* libcurl (the EST client) wants it before any thread. */
			if (ferry_estc_global_init() != 0) {
				cli_error("cannot initialize libcurl");
				return EXIT_FAIL;
			}
			ret = commands[i].run(argc - 1, argv + 1);
			ferry_estc_global_cleanup();
			return ret;
		}
	cli_error("unknown command '%s'; 'ferry --help' lists them", argv[1]);
	return EXIT_USAGE;
}
