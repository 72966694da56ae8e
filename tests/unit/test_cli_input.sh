#!/bin/bash
# Bad command lines and bad cdp.conf files are refused with a message that
# names the problem (table-driven; no kernel or Ceph needed: every case
# fails before touching either).
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
CDPCTL=$TOP/ctl/cdpctl
CDPD=$TOP/ctl/cdpd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CDP_STATE_DIR=$tmp/state CDP_CONF=$tmp/none.conf

# expected-exit-code | expected message (grep -E) | command line
cli_cases=(
	"2|which device|protect"
	"2|--image POOL/IMAGE is required|protect /dev/null"
	"2|duplicate \"--image\"|protect /dev/null --image a --image b"
	"2|--queue-mb takes a whole number from 1 to 4096|protect /dev/null --image a --queue-mb 0"
	"2|--queue-mb takes a whole number|protect /dev/null --image a --queue-mb lots"
	"2|power of two|protect /dev/null --image a --region-kb 48"
	"2|--on-sync-timeout is degrade or error|protect /dev/null --image a --on-sync-timeout panic"
	"2|unknown option \"--bogus\"|protect /dev/null --image a --bogus"
	"2|duplicate \"DEV\"|protect /dev/null /dev/zero --image a"
	"2|Command line is not complete|unprotect"
	"2|Command line is not complete|protect /dev/null --image"
	"2|Object \"frobnicate\" is unknown|frobnicate"
	"2|Command \"explode\" is unknown|volume explode"
	"2|--region is a multiple of 4K|verify vol --region 1000"
	"2|--wait takes a whole number|verify vol --wait -3"
	"2|Usage: cdpctl protect|status a b"
)
# expected message | cdp.conf content
conf_cases=(
	"unknown key 'ceph_cnf'|ceph_cnf = /etc/ceph/ceph.conf"
	"expected 'key = value'|ceph_conf /etc/ceph/ceph.conf"
	"op_timeout_s: '0' is not a whole number between 1 and 3600|op_timeout_s = 0"
	"op_timeout_s: 'ten' is not a whole number|op_timeout_s = ten"
	"region_kb: '48' is not a power of two|region_kb = 48"
	"fetch_kb: '99999999' is not a whole number between 64 and 65536|fetch_kb = 99999999"
	"freeze_expedite_rcu: 'maybe' is not yes or no|freeze_expedite_rcu = maybe"
	"keyring: empty value (give one, or remove the line for the default)|keyring ="
	"pool: value of 200 characters is too long (at most 127)|pool = $(printf 'p%.0s' $(seq 200))"
	"cdp.conf:3: unknown key 'x'|# comment\n\nx = 1"
)
tap_plan $(( ${#cli_cases[@]} + 2 * ${#conf_cases[@]} + 1 ))

for c in "${cli_cases[@]}"; do
	IFS='|' read -r want_rc want_msg args <<< "$c"
	# shellcheck disable=SC2086
	out=$("$CDPCTL" $args 2>&1); rc=$?
	if [ "$rc" = "$want_rc" ] && grep -qE -- "$want_msg" <<< "$out"; then
		tap_ok "cdpctl $args: exit $rc, says '$want_msg'"
	else
		tap_fail "cdpctl $args: want exit $want_rc and '$want_msg'"; tap_diag "exit $rc: $out"
	fi
done

for c in "${conf_cases[@]}"; do
	IFS='|' read -r want_msg content <<< "$c"
	printf "$content\n" > "$tmp/cdp.conf"
	for prog in cdpd cdpctl; do
		if [ $prog = cdpd ]; then
			out=$(timeout 10 "$CDPD" -c "$tmp/cdp.conf" 2>&1); rc=$?
		else
			out=$(CDP_CONF=$tmp/cdp.conf "$CDPCTL" list 2>&1); rc=$?
		fi
		if [ $rc != 0 ] && [ $rc != 124 ] && grep -qF -- "$want_msg" <<< "$out"; then
			tap_ok "$prog refuses '$content': $want_msg"
		else
			tap_fail "$prog refuses '$content'"; tap_diag "exit $rc: $out"
		fi
	done
done

out=$(timeout 10 "$CDPD" -c "$tmp/missing.conf" 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "cannot read config $tmp/missing.conf" <<< "$out"; then
	tap_ok "cdpd -c with a missing file names it"
else
	tap_fail "cdpd -c with a missing file"; tap_diag "exit $rc: $out"
fi
tap_done
