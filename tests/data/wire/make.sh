#!/usr/bin/env bash
# make.sh - writes the wire regression cases in this directory from the hex
# below (see README.md). The .bin files are committed; run this after editing
# a case and review `git diff --stat` plus `xxd <file>` before committing.
#
#   frame NAME TYPE PAYLOAD  - header (TYPE, length of PAYLOAD) + PAYLOAD
#   raw NAME BYTES           - the file is exactly BYTES (for broken headers)
#
# PAYLOAD and BYTES are hex; spaces separate fields for the reader only.
# $(txt STRING) is STRING's bytes in hex, $(rep HEX N) is HEX N times.
set -euo pipefail
cd "$(dirname "$0")"

txt() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
rep() { local i out=""; for ((i = 0; i < $2; i++)); do out+=$1; done; printf '%s' "$out"; }
u16() { printf '%04x' "$1"; }
raw() { printf '%s' "${2// /}" | xxd -r -p >"$1.bin"; }
frame() {
	local p=${3// /}
	raw "$1" "$2 $(printf '%08x' $((${#p} / 2))) $p"
}

rm -f ./*.bin

# ---- valid: each decodes as the named type and re-encodes to the same bytes
#                       version   features          software
frame valid_hello_basic 01 "0001 0000000000000000 $(u16 9) $(txt ferry/0.1)"
frame valid_hello_empty_software 01 "0001 0000000000000003 0000"
#                     id       size             mode     mtime (1700000000) flags    name
frame valid_put_basic 10 "00000001 0000000000000005 000001a4 000000006553f100 00000000 $(u16 5) $(txt a.txt)"
frame valid_put_force_utf8 10 "00000002 0000000000000000 00000180 fffffffffffffc18 00000001 $(u16 11) $(txt 'ümlaut.txt')"
frame valid_put_name_255 10 "00000003 0000000000000001 000001a4 0000000000000000 00000000 00ff $(rep 78 255)"
frame valid_data_empty 11 ""
frame valid_data_hello 11 "$(txt 'hello world')0a"
#                     sha256("abc")
frame valid_end_sha256_abc 12 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#                           code (90 INTEGRITY) message
frame valid_abort_integrity 13 "005a $(u16 16) $(txt 'SHA-256 mismatch')"
#                    id       flags    path
frame valid_get_path 20 "00000002 00000000 $(u16 12) $(txt dir/file.txt)"
frame valid_get_empty_path 20 "00000003 00000000 0000"
#                                id       size             mode     mtime (-1)
frame valid_file_negative_mtime 21 "00000002 000000000000000a 00000180 ffffffffffffffff"
frame valid_list_root 30 "00000004 0000"
#                     kind size             mode     mtime            name
frame valid_entry_dir 31 "64 0000000000000000 000001ed 000000006553f100 $(u16 4) $(txt docs)"
frame valid_listend_count 32 "00000004 00000003"
#                          id       size             sha256("")
frame valid_ok_sha256_empty 40 "00000001 0000000000000000 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#                     id       code (30 NOENT) message
frame valid_err_noent 41 "00000002 001e $(u16 26) $(txt 'dir/file.txt: no such file')"

# ---- valid: the SYNC feature (PROTOCOL.md 5.10-5.16)
#                         id       size             path
frame valid_probe_path 14 "00000001 0000000000000005 $(u16 17) $(txt photos/2024/a.jpg)"
#                        id       kind size             sha256("hello")                                                  part             part_sha256 ("hel")
frame valid_have_file 42 "00000001 66 0000000000000005 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 0000000000000003 d6a81f224bbf2f7c22baddbd5d40730eb20cfb0b3d74e10cab61788214caceb1"
#                           id       kind size             sha256 (none)  part             part_sha256 (sha256(""))
frame valid_have_nothing 42 "00000007 00 0000000000000000 $(rep 00 32) 0000000000000000 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#                           id       size             mode     mtime            flags    offset           prefix_sha256 ("hel")                                            path
frame valid_putat_resume 15 "00000002 0000000000000005 000001a4 000000006553f100 00000002 0000000000000003 d6a81f224bbf2f7c22baddbd5d40730eb20cfb0b3d74e10cab61788214caceb1 $(u16 17) $(txt photos/2024/a.jpg)"
frame valid_putat_from_zero 15 "00000003 0000000000000000 00000180 fffffffffffffc18 00000001 0000000000000000 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 $(u16 5) $(txt a.txt)"
#                            id       mode     mtime            flags    path
frame valid_mkdir_preserve 16 "00000003 000001ed 000000006553f100 00000002 $(u16 11) $(txt photos/2024)"
#                          id       flags    path                         target
frame valid_link_force 17 "00000004 00000001 $(u16 13) $(txt photos/latest) $(u16 10) $(txt 2024/a.jpg)"
#                         id       flags    offset           prefix_sha256 ("hello")                                          path
frame valid_getat_same 22 "00000005 00000001 0000000000000005 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 $(u16 17) $(txt photos/2024/a.jpg)"
#                            id       size             mode     mtime            offset
frame valid_fileat_resume 23 "00000005 0000000000000005 000001a4 000000006553f100 0000000000000003"
#                     id       path
frame valid_walk_root 33 "00000006 0000"
frame valid_walk_path 33 "00000006 $(u16 6) $(txt photos)"
#                     kind size             mode     mtime            path                        target
frame valid_node_dir 34 "64 0000000000000000 000001ed 000000006553f100 $(u16 6) $(txt photos) 0000"
frame valid_node_file 34 "66 0000000000000005 000001a4 000000006553f100 $(u16 17) $(txt photos/2024/a.jpg) 0000"
frame valid_node_link 34 "6c 0000000000000000 000001ff 000000006553f100 $(u16 13) $(txt photos/latest) $(u16 10) $(txt 2024/a.jpg)"

# ---- invalid: broken headers
raw invalid_empty ""
raw invalid_short_header "10 0000"
raw invalid_type_00_none "00 00000000"
raw invalid_type_ff_eof "ff 00000000"
raw invalid_type_18_unassigned "18 00000000"
raw invalid_type_24_unassigned "24 00000000"
raw invalid_type_43_unassigned "43 00000000"
raw invalid_probe_length_8193 "14 00002001"
raw invalid_end_length_33 "12 00000021 $(rep 00 33)"
raw invalid_get_length_8193 "20 00002001"
raw invalid_data_length_262145 "11 00040001"
raw invalid_length_mismatch "32 00000008 00000004 000000"

# ---- invalid: payloads that do not parse
frame invalid_end_short_sha 12 "$(rep 00 31)"
frame invalid_ok_short_sha 40 "00000001 0000000000000000 $(rep 00 31)"
frame invalid_put_trailing_byte 10 "00000001 0000000000000005 000001a4 000000006553f100 00000000 $(u16 5) $(txt a.txt) 00"
frame invalid_put_name_nul 10 "00000001 0000000000000005 000001a4 000000006553f100 00000000 0003 610062"
frame invalid_put_name_256 10 "00000001 0000000000000005 000001a4 000000006553f100 00000000 0100 $(rep 78 256)"
frame invalid_put_name_past_end 10 "00000001 0000000000000005 000001a4 000000006553f100 00000000 0010 $(txt a.txt)"
frame invalid_put_no_name 10 "00000001 0000000000000005 000001a4 000000006553f100 00000000"
frame invalid_hello_software_1025 01 "0001 0000000000000000 0401 $(rep 41 1025)"
frame invalid_get_path_4097 20 "00000002 00000000 1001 $(rep 61 4097)"
frame invalid_abort_message_nul 13 "005a 0001 00"
frame invalid_err_missing_code 41 "00000002"
frame invalid_listend_trailing_byte 32 "00000004 00000003 ff"
frame invalid_entry_truncated_mtime 31 "66 0000000000000000 000001a4 00000000"
frame invalid_file_empty 21 ""

# ---- invalid: SYNC payloads that do not parse
frame invalid_probe_empty 14 ""
frame invalid_probe_path_4097 14 "00000001 0000000000000005 1001 $(rep 61 4097)"
frame invalid_probe_path_nul 14 "00000001 0000000000000005 0003 610062"
frame invalid_have_84_bytes 42 "00000001 66 0000000000000005 $(rep 00 32) 0000000000000003 $(rep 00 31)"
frame invalid_have_trailing_byte 42 "00000001 66 0000000000000005 $(rep 00 32) 0000000000000003 $(rep 00 32) 00"
frame invalid_putat_short_prefix 15 "00000002 0000000000000005 000001a4 000000006553f100 00000002 0000000000000003 $(rep 00 31)"
frame invalid_putat_path_4097 15 "00000002 0000000000000005 000001a4 000000006553f100 00000000 0000000000000000 $(rep 00 32) 1001 $(rep 61 4097)"
frame invalid_mkdir_trailing_byte 16 "00000003 000001ed 000000006553f100 00000002 $(u16 6) $(txt photos) 00"
frame invalid_mkdir_path_past_end 16 "00000003 000001ed 000000006553f100 00000002 0010 $(txt photos)"
frame invalid_link_no_target 17 "00000004 00000000 $(u16 13) $(txt photos/latest)"
frame invalid_link_target_1025 17 "00000004 00000000 $(u16 1) $(txt a) 0401 $(rep 62 1025)"
frame invalid_link_target_nul 17 "00000004 00000000 $(u16 1) $(txt a) 0003 610062"
frame invalid_link_path_4097 17 "00000004 00000000 1001 $(rep 61 4097) $(u16 1) $(txt b)"
frame invalid_getat_no_path 22 "00000005 00000001 0000000000000005 $(rep 00 32)"
frame invalid_getat_path_nul 22 "00000005 00000000 0000000000000000 $(rep 00 32) 0001 00"
frame invalid_fileat_truncated_offset 23 "00000005 0000000000000005 000001a4 000000006553f100 00000000"
frame invalid_fileat_trailing_byte 23 "00000005 0000000000000005 000001a4 000000006553f100 0000000000000003 00"
frame invalid_walk_empty 33 ""
frame invalid_walk_path_4097 33 "00000006 1001 $(rep 61 4097)"
frame invalid_node_no_target 34 "66 0000000000000005 000001a4 000000006553f100 $(u16 5) $(txt a.txt)"
frame invalid_node_path_nul 34 "66 0000000000000005 000001a4 000000006553f100 0003 610062 0000"
frame invalid_node_target_1025 34 "6c 0000000000000000 000001ff 000000006553f100 $(u16 1) $(txt l) 0401 $(rep 62 1025)"
frame invalid_node_target_nul 34 "6c 0000000000000000 000001ff 000000006553f100 $(u16 1) $(txt l) 0002 0061"
frame invalid_node_target_past_end 34 "6c 0000000000000000 000001ff 000000006553f100 $(u16 1) $(txt l) 0005 $(txt abc)"
