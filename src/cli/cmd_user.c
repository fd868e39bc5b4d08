/* cmd_user.c - ferry user: authd's accounts (add, del, list, passwd, log).
 * Thin over ferry/store.h and ferry/passwd.h; passwords never echo, never print. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ferry/passwd.h"
#include "ferry/pki.h"
#include "ferry/log.h"
#include "ferry/store.h"

#include "cli.h"

static const char user_usage[] =
    "usage: ferry user <command> --db FILE [options] [NAME]\n"
    "\n"
    "commands:\n"
    "  add NAME      create an account (asks for its password)\n"
    "  passwd NAME   change an account's password\n"
    "  del NAME      delete an account (its certificates stay valid until\n"
    "                they expire or are revoked; it can no longer renew)\n"
    "  list          the accounts, without their password hashes\n"
    "  log [NAME]    the audit record: enrollments, renewals, revocations,\n"
    "                failed logins (the last 100, or -n N)\n"
    "\n"
    "  --db FILE          the account database (SQLite; add creates it "
    "0600)\n"
    "  --password-stdin   read the password from the first line of stdin\n"
    "  -n N               log: how many events (default 100)\n"
    "\n"
    "NAME is a member ID: letters, digits, '.', '_', '-'; it becomes the\n"
    "certificate's name. Passwords are 8 to 1024 bytes, hashed with "
    "Argon2id.\n";

enum { OPT_DB = 256, OPT_PASSWORD_STDIN };

static void
iso(time_t t, char out[32])
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "-");
}

static void
print_user(const struct ferry_store_user *u, void *arg)
{
	char c[32], p[32], l[32];

	(void)arg;
	iso(u->created, c);
	iso(u->updated, p);
	iso(u->last_issued, l);
	printf("%-20s created %s  password %s  certificates %u  last %s\n",
	    u->name, c, p, u->n_certs, l);
}

static void
print_event(const struct ferry_store_event *ev, void *arg)
{
	char t[32], line[2048];

	(void)arg;
	iso(ev->time, t);
	/* Names in failed logins are whatever a client sent: make them safe. */
	snprintf(line, sizeof(line), "%s %-12s user=%s addr=%s serial=%s%s%s",
	    t, ev->kind, ev->user != NULL ? ev->user : "-",
	    ev->addr != NULL ? ev->addr : "-",
	    ev->serial != NULL ? ev->serial : "-",
	    ev->detail != NULL ? " " : "",
	    ev->detail != NULL ? ev->detail : "");
	ferry_sanitize(line);
	puts(line);
}

int
cmd_user(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, OPT_DB},
	    {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char cmd[32], pw[FERRY_PASSWD_MAX + 2];
	char hash[FERRY_PASSWD_ENCODED_MAX];
	const char *sub, *db = NULL, *name = NULL;
	struct ferry_store *st = NULL;
	size_t pwlen = 0;
	long n = 100;
	int c, r, verbose = 0, from_stdin = 0, ret = EXIT_USAGE;
	int add, passwd, del, list, log;

	hash[0] = '\0';
	if (argc < 2) {
		cli_error("user: which command, add, passwd, del, list or "
		          "log? (see 'ferry user --help')");
		return EXIT_USAGE;
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		fputs(user_usage, stdout);
		return EXIT_OK;
	}
	add = strcmp(sub, "add") == 0;
	passwd = strcmp(sub, "passwd") == 0;
	del = strcmp(sub, "del") == 0;
	list = strcmp(sub, "list") == 0;
	log = strcmp(sub, "log") == 0;
	if (!add && !passwd && !del && !list && !log) {
		cli_error("user: unknown command '%s'; 'ferry user --help' "
		          "lists them",
		    sub);
		return EXIT_USAGE;
	}
	snprintf(cmd, sizeof(cmd), "user %s", sub);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":hvn:", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			from_stdin = 1;
			break;
		case 'n':
			if (cli_parse_int(
			        "user log: -n", optarg, 1, 1000000, &n) != 0)
				return EXIT_USAGE;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(user_usage, stdout);
			return EXIT_OK;
		default:
			return cli_opt_error("user", c, argv + 1);
		}
	}
	if (optind < argc - 1)
		name = argv[1 + optind++];
	if (optind < argc - 1) {
		cli_error("%s: unexpected argument '%s' (see 'ferry user "
		          "--help')",
		    cmd, argv[1 + optind]);
		return EXIT_USAGE;
	}
	if (db == NULL || *db == '\0') {
		cli_error(
		    "%s: --db is required (see 'ferry user --help')", cmd);
		return EXIT_USAGE;
	}
	if ((add || passwd || del) && name == NULL) {
		cli_error("%s: which user? (see 'ferry user --help')", cmd);
		return EXIT_USAGE;
	}
	if (list && name != NULL) {
		cli_error("%s: unexpected argument '%s'", cmd, name);
		return EXIT_USAGE;
	}
	if (from_stdin && !(add || passwd)) {
		cli_error("%s: --password-stdin is for add and passwd", cmd);
		return EXIT_USAGE;
	}
	cli_log_setup(verbose, 0);
	if (name != NULL && (r = ferry_id_check(name)) != 0)
		return cli_fail(r, "%s: user name", cmd);

	if ((r = ferry_store_open(db, add, &st)) != 0) {
		ret = cli_fail(r, "%s", cmd);
		goto out;
	}
	if (add || passwd) {
		/* For add: refuse before asking for a password. */
		if (add && (r = ferry_store_user_hash(st, name, hash)) !=
		               FERRY_E_NOENT) {
			ret = r == 0 ? cli_fail(ferry_errf(FERRY_E_EXIST,
			                            "user '%s' already exists",
			                            name),
			                   "%s", cmd)
			             : cli_fail(r, "%s", cmd);
			goto out;
		}
		if (passwd &&
		    (r = ferry_store_user_hash(st, name, hash)) != 0) {
			if (r == FERRY_E_NOENT)
				r = ferry_errf(FERRY_E_NOENT,
				    "no user '%s' in %s", name, db);
			ret = cli_fail(r, "%s", cmd);
			goto out;
		}
		if ((r = cli_read_password("Password for the new account: ",
		         from_stdin, 1, pw, sizeof(pw), &pwlen)) != 0 ||
		    (r = ferry_passwd_hash(pw, pwlen, hash)) != 0) {
			ret = cli_fail(r, "%s", cmd);
			goto out;
		}
		r = add ? ferry_store_user_add(st, name, hash)
		        : ferry_store_user_set_hash(st, name, hash);
		if (r != 0) {
			ret = cli_fail(r, "%s", cmd);
			goto out;
		}
		printf("%s %s\n", add ? "added" : "password changed for", name);
	} else if (del) {
		if ((r = ferry_store_user_del(st, name)) != 0) {
			ret = cli_fail(r, "%s", cmd);
			goto out;
		}
		printf("deleted %s\n", name);
	} else if (list) {
		if ((r = ferry_store_user_list(st, print_user, NULL)) != 0) {
			ret = cli_fail(r, "%s", cmd);
			goto out;
		}
	} else {
		if ((r = ferry_store_event_list(
		         st, name, (unsigned)n, print_event, NULL)) != 0) {
			ret = cli_fail(r, "%s", cmd);
			goto out;
		}
	}
	ret = EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(hash, sizeof(hash));
	ferry_store_close(st);
	return ret;
}
