/* test_log.c - ferry_sanitize: what may reach a terminal or a log line;
 * priorities, --log destinations, JOURNAL_STREAM, fields and their lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/log.h"

static void
check(const char *in, const char *want)
{
	char buf[64];

	strcpy(buf, in);
	ferry_sanitize(buf);
	assert_string_equal(buf, want);
}

static void
test_sanitize(void **state)
{
	(void)state;
	check("", "");
	check("report.pdf", "report.pdf");
	check("a\nb\rc\td", "a?b?c?d");
	check("bell\x07", "bell?");
	check("del\x7f", "del?");
	/* Valid UTF-8 stays: names are bytes, shown as the user wrote them. */
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\xa2",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\xa2");
	check("\xc2\xa0nbsp", "\xc2\xa0nbsp");
	/* 8-bit CSI raw, and C1 controls encoded as UTF-8. */
	check("x\x9b"
	      "31m",
	    "x?31m");
	check("x\xc2\x9b"
	      "31m",
	    "x??31m");
	check("\xc2\x85", "??");
	/* Invalid: stray bytes, overlong forms, surrogates, truncation. */
	check("\xff\xfe", "??");
	check("\xc0\xaf", "??");
	check("\xe0\x80\xaf", "???");
	check("\xed\xa0\x80", "???");
	check("\xf4\x90\x80\x80", "????");
	check("end\xe2\x82", "end??");
}

static void
test_priority(void **state)
{
	(void)state;
	/* sd-daemon(3) and syslog(3): what journalctl -p warning selects. */
	assert_int_equal(ferry_log_priority(FERRY_LOG_ERROR), 3);
	assert_int_equal(ferry_log_priority(FERRY_LOG_WARN), 4);
	assert_int_equal(ferry_log_priority(FERRY_LOG_INFO), 6);
	assert_int_equal(ferry_log_priority(FERRY_LOG_DEBUG), 7);
	assert_int_equal(LOG_WARNING, 4);
}

static void
test_dest_parse(void **state)
{
	enum ferry_log_dest d = FERRY_LOG_TO_SYSLOG;

	(void)state;
	assert_int_equal(ferry_log_dest_parse("auto", &d), 0);
	assert_int_equal(d, FERRY_LOG_TO_AUTO);
	assert_int_equal(ferry_log_dest_parse("stderr", &d), 0);
	assert_int_equal(d, FERRY_LOG_TO_STDERR);
	assert_int_equal(ferry_log_dest_parse("journal", &d), 0);
	assert_int_equal(d, FERRY_LOG_TO_JOURNAL);
	assert_int_equal(ferry_log_dest_parse("syslog", &d), 0);
	assert_int_equal(d, FERRY_LOG_TO_SYSLOG);
	assert_int_equal(ferry_log_dest_parse("", &d), FERRY_E_USAGE);
	assert_int_equal(ferry_log_dest_parse("Journal", &d), FERRY_E_USAGE);
	assert_int_equal(ferry_log_dest_parse("journald", &d), FERRY_E_USAGE);
	/* Explicit choices stay as they are. */
	assert_int_equal(
	    ferry_log_dest_resolve(FERRY_LOG_TO_SYSLOG), FERRY_LOG_TO_SYSLOG);
	assert_int_equal(
	    ferry_log_dest_resolve(FERRY_LOG_TO_STDERR), FERRY_LOG_TO_STDERR);
}

static void
test_stream_parse(void **state)
{
	static const char *bad[] = {"", ":", "1:", ":1", "1", "1:2:3", "a:1",
	    "1:b", " 1:2", "1:2 ", "-1:2", "1:+2", "18446744073709551616:1",
	    "1:99999999999999999999", "000000000000000000001:1"};
	uint64_t dev, ino;

	(void)state;
	assert_int_equal(ferry_log_stream_parse("8:12345", &dev, &ino), 0);
	assert_int_equal(dev, 8);
	assert_int_equal(ino, 12345);
	assert_int_equal(
	    ferry_log_stream_parse("18446744073709551615:0", &dev, &ino), 0);
	assert_int_equal(dev, UINT64_MAX);
	assert_int_equal(ino, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    ferry_log_stream_parse(bad[i], &dev, &ino), FERRY_E_USAGE);
}

/* JOURNAL_STREAM for fd's file, or off by one in the inode. */
static void
set_stream(int fd, int off)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(fd, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (unsigned)off);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static void
test_journal_stream(void **state)
{
	FILE *a = tmpfile(), *b = tmpfile();
	int saved = dup(STDERR_FILENO);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(ferry_log_journal_stream(fileno(a)), 0);
	set_stream(fileno(a), 0);
	assert_int_equal(ferry_log_journal_stream(fileno(a)), 1);
	assert_int_equal(ferry_log_journal_stream(fileno(b)), 0);
	set_stream(fileno(a), 1);
	assert_int_equal(ferry_log_journal_stream(fileno(a)), 0);
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_int_equal(ferry_log_journal_stream(fileno(a)), 0);
	/* auto: journal exactly when stderr is the stream named. */
	assert_int_equal(dup2(fileno(a), STDERR_FILENO), STDERR_FILENO);
	set_stream(fileno(a), 0);
	assert_int_equal(
	    ferry_log_dest_resolve(FERRY_LOG_TO_AUTO), FERRY_LOG_TO_JOURNAL);
	set_stream(fileno(b), 0);
	assert_int_equal(
	    ferry_log_dest_resolve(FERRY_LOG_TO_AUTO), FERRY_LOG_TO_STDERR);
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(
	    ferry_log_dest_resolve(FERRY_LOG_TO_AUTO), FERRY_LOG_TO_STDERR);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	fclose(a);
	fclose(b);
}

/* What the journal handler writes to stderr for a plain line. */
static void
journal_text(
    enum ferry_log_level level, const char *msg, char *out, size_t size)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(f);
	fflush(stderr);
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	ferry_log_journal(level, "x.c", 7, "fn", msg, NULL, 0, NULL);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
test_journal_prefix(void **state)
{
	char out[256];

	(void)state;
	journal_text(FERRY_LOG_ERROR, "broken", out, sizeof(out));
	assert_string_equal(out, "<3>broken\n");
	journal_text(FERRY_LOG_WARN, "serve: careful", out, sizeof(out));
	assert_string_equal(out, "<4>serve: careful\n");
	journal_text(FERRY_LOG_INFO, "serve: listening on x", out, sizeof(out));
	assert_string_equal(out, "<6>serve: listening on x\n");
	journal_text(FERRY_LOG_DEBUG, "detail", out, sizeof(out));
	assert_string_equal(out, "<7>detail (x.c:7 fn)\n");
}

static void
test_syslog_line(void **state)
{
	const struct ferry_log_field f[] = {{"MEMBER", "alice"},
	    {"FILE", "my file.txt"}, {"SIZE", "6"}, {"NOTE", "a\"b\\c=d"},
	    {"EMPTY", ""}};
	char out[256], small[12];

	(void)state;
	ferry_log_syslog_line(out, sizeof(out), FERRY_LOG_INFO, "got it", f, 5);
	assert_string_equal(out, "got it member=alice file=\"my file.txt\" "
	                         "size=6 note=\"a\\\"b\\\\c=d\" empty=\"\"");
	ferry_log_syslog_line(
	    out, sizeof(out), FERRY_LOG_WARN, "plain", NULL, 0);
	assert_string_equal(out, "plain");
	/* Bounded: cut, never overrun, always terminated. */
	ferry_log_syslog_line(
	    small, sizeof(small), FERRY_LOG_INFO, "got it", f, 5);
	assert_string_equal(small, "got it memb");
}

static void
test_journal_entry(void **state)
{
	const struct ferry_log_field f[] = {
	    {"MEMBER", "alice"}, {"FILE", "a\nb"}, {"SIZE", "6"}};
	const char *want = "MESSAGE=alice@h: received a?b\n"
	                   "PRIORITY=6\n"
	                   "SYSLOG_IDENTIFIER=ferry\n"
	                   "CODE_FILE=xfer_serve.c\n"
	                   "CODE_LINE=42\n"
	                   "CODE_FUNC=commit_file\n"
	                   "MEMBER=alice\n"
	                   "FILE=a?b\n"
	                   "SIZE=6\n";
	char out[512];
	size_t n;

	(void)state;
	n = ferry_log_journal_entry(out, sizeof(out), FERRY_LOG_INFO,
	    "xfer_serve.c", 42, "commit_file", "alice@h: received a?b", f, 3);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	n = ferry_log_journal_entry(
	    out, sizeof(out), FERRY_LOG_WARN, "f.c", 1, "g", "w", NULL, 0);
	assert_true(n > 0);
	assert_non_null(memmem(out, n, "\nPRIORITY=4\n", 12));
	/* Too small: nothing, rather than a cut entry. */
	assert_int_equal(ferry_log_journal_entry(out, 40, FERRY_LOG_INFO,
	                     "xfer_serve.c", 42, "commit_file", "m", f, 3),
	    0);
}

/* What a handler received: the last line and its fields. */
static struct {
	char msg[1024];
	char keys[FERRY_LOG_FIELDS_MAX][80];
	char vals[FERRY_LOG_FIELDS_MAX][FERRY_LOG_FIELD_MAX];
	size_t n;
} got;

static void
capture(enum ferry_log_level level, const char *file, int line,
    const char *func, const char *msg, const struct ferry_log_field *fields,
    size_t n, void *arg)
{
	(void)level, (void)file, (void)line, (void)func, (void)arg;
	snprintf(got.msg, sizeof(got.msg), "%s", msg);
	got.n = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(got.keys[i], sizeof(got.keys[i]), "%s", fields[i].key);
		snprintf(
		    got.vals[i], sizeof(got.vals[i]), "%s", fields[i].value);
	}
}

static void
test_event_fields(void **state)
{
	char longv[2000];
	const struct ferry_log_field f[] = {{"MEMBER", "alice"},
	    {"FILE", "evil\nMESSAGE=forged\x1b[2J"}, {"SIZE", NULL},
	    {"lower", "x"}, {"_PID", "1"}, {"9X", "y"}, {"BAD-KEY", "z"},
	    {"LONG", longv}};

	(void)state;
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ferry_log_set(capture, FERRY_LOG_INFO, NULL);
	ferry_log_event(FERRY_LOG_INFO, f, 8, "got %s", "it\r\n");
	assert_string_equal(got.msg, "got it??");
	/* A NULL value and keys that are no journal field names: left out. */
	assert_int_equal(got.n, 3);
	assert_string_equal(got.keys[0], "MEMBER");
	assert_string_equal(got.vals[0], "alice");
	assert_string_equal(got.keys[1], "FILE");
	assert_string_equal(got.vals[1], "evil?MESSAGE=forged?[2J");
	assert_string_equal(got.keys[2], "LONG");
	assert_int_equal(strlen(got.vals[2]), FERRY_LOG_FIELD_MAX - 1);
	/* Below the level: the handler is not called. */
	got.n = 99;
	ferry_log_event(FERRY_LOG_DEBUG, f, 1, "quiet");
	assert_int_equal(got.n, 99);
	/* A plain line has no fields. */
	ferry_info("plain");
	assert_int_equal(got.n, 0);
	ferry_log_set(NULL, FERRY_LOG_ERROR, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_priority),
	    cmocka_unit_test(test_dest_parse),
	    cmocka_unit_test(test_stream_parse),
	    cmocka_unit_test(test_journal_stream),
	    cmocka_unit_test(test_journal_prefix),
	    cmocka_unit_test(test_journal_entry),
	    cmocka_unit_test(test_syslog_line),
	    cmocka_unit_test(test_event_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
