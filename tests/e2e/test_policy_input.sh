#!/bin/bash
# `cdpctl policy add` refuses bad input with a message that names the
# problem (table-driven), and the policy commands round-trip through --json.
# Catalog only: no Ceph needed.
# timeout: 60
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"

[ -x "$TOP/ctl/cdpctl" ] || { echo "1..0 # SKIP build first (make user)"; exit 4; }
W=$(mktemp -d /tmp/test_policy_input.XXXXXX)
trap 'rm -rf "$W"' EXIT
cp "$TOP/ctl/cdpctl" "$W/cdpctl"
CAT=$W/catalog.db
C() { "$W/cdpctl" -c "$CAT" "$@"; }

C policy list >/dev/null || { echo "Bail out! cannot create a catalog"; exit 1; }
sqlite3 "$CAT" "INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at) VALUES
	('ext1', 'rbd', 'e1', 'external', 0), ('db', 'rbd', 'db', 'protected', 0),
	('logs', 'rbd', 'logs', 'protected', 0), ('old', 'rbd', 'old', 'unprotected', 0)"
C policy add taken --volumes ext1 --every 1h >/dev/null

# exit code | what stderr must contain | policy add arguments
cases=(
"2|interval must be longer than zero|p --volumes ext1 --every 0"
"2|interval must be longer than zero|p --volumes ext1 --every 0m"
"2|whole minutes|p --volumes ext1 --every 90s"
"2|expected an interval|p --volumes ext1 --every 15x"
"2|expected an interval|p --volumes ext1 --every -5m"
"1|volume nosuch is not in the catalog|p --volumes nosuch --every 15m"
"1|volume nosuch is not in the catalog|p --volumes db nosuch --every 15m"
"2|old is unprotected|p --volumes old --every 15m"
"2|mixes external images|p --volumes ext1 db --every 15m"
"2|no application to quiesce|p --volumes ext1 --every 15m --freeze /mnt"
"2|no application to quiesce|p --volumes ext1 --every 15m --pre true --post true"
"2|--archive-after needs --drive|p --volumes db --every 15m --archive-after 30d"
"2|only apply with --archive-after|p --volumes db --every 15m --drive stdio:/x"
"2|only apply with --archive-after|p --volumes db --every 15m --capacity 25G"
"2|archive after at least one day|p --volumes db --every 15m --archive-after 0 --drive stdio:/x"
"2|expected a number of days|p --volumes db --every 15m --archive-after 3h --drive stdio:/x"
"2|--post without --pre|p --volumes db --every 15m --post true"
"2|listed twice|p --volumes db db --every 15m"
"2|duplicate \"--every\"|p --volumes db --every 15m --every 1h"
"2|duplicate \"--keep-daily\"|p --volumes db --every 15m --keep-daily 7 --keep-daily 8"
"2|expected a count|p --volumes db --every 15m --keep-last -1"
"2|expected a count|p --volumes db --every 15m --keep-hourly many"
"2|needs --volumes|p --every 15m"
"2|needs --every|p --volumes db"
"2|not valid|bad/name --volumes db --every 15m"
"2|unknown option \"--keep-yearly\"|p --volumes db --every 15m --keep-yearly 3"
"2|Command line is not complete|p --volumes db --every"
"1|exists already|taken --volumes db --every 15m"
"2|an absolute path without spaces|p --volumes db --every 15m --freeze srv"
"2|at most 16|p --volumes v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 v11 v12 v13 v14 v15 v16 v17 --every 15m"
)

tap_plan $(( ${#cases[@]} + 6 ))
for c in "${cases[@]}"; do
	IFS='|' read -r want msg args <<< "$c"
	# shellcheck disable=SC2086 # the table's words are the arguments
	err=$(C policy add $args 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && grep -qF -- "$msg" <<< "$err"; then
		tap_ok "policy add $args: exit $rc, \"$msg\""
	else
		tap_fail "policy add $args: exit $rc (want $want)"
		tap_diag "$err"
	fi
done
n=$(sqlite3 "$CAT" "SELECT count(*) FROM policies")
if [ "$n" = 1 ]; then tap_ok "no bad policy reached the catalog"; else tap_fail "policies in catalog: $n (want 1)"; fi

# good ones, and the JSON of list/show
C policy add grp --volumes db logs --every 1h --keep-last 2 --keep-daily 7 \
	--freeze /srv --freeze /var/lib/pg --pre "/usr/bin/true" --post "/usr/bin/true" \
	--archive-after 30d --drive stdio:/tmp/a --drive stdio:/tmp/b --capacity 25G
out=$(C -j policy show grp)
if python3 -c '
import json, sys
p = json.loads(sys.argv[1])[0]
assert p["volumes"] == ["db", "logs"], p
assert p["every_s"] == 3600 and p["keep"]["daily"] == 7 and p["keep"]["last"] == 2, p
assert p["drives"] == ["stdio:/tmp/a", "stdio:/tmp/b"] and p["archive_after_days"] == 30, p
assert p["freeze"] == ["/srv", "/var/lib/pg"] and not p["paused"], p' "$out" 2>"$W/err"; then
	tap_ok "policy add (group, archive, hooks) and show --json"
else
	tap_fail "policy show --json"; tap_diag "$out $(cat "$W/err")"
fi
grp=$(sqlite3 "$CAT" "SELECT count(*) FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'policy:grp'")
[ "$grp" = 2 ] && tap_ok "several volumes make the policy's consistency group" || tap_fail "group members: $grp"

C policy pause grp && paused=$(C -j policy list | python3 -c 'import json,sys; print([p["paused"] for p in json.load(sys.stdin) if p["name"]=="grp"][0])')
C policy resume taken
if [ "${paused:-}" = True ]; then tap_ok "pause shows in list --json"; else tap_fail "pause: ${paused:-}"; fi

C policy remove grp
left=$(C -j policy list | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)))')
g=$(sqlite3 "$CAT" "SELECT count(*) FROM groups")
err=$(C policy remove grp 2>&1)
if [ "$left" = taken ] && [ "$g" = 0 ] && grep -q "does not exist" <<< "$err"; then
	tap_ok "remove drops policy and its group; removing again names the problem"
else
	tap_fail "remove: left=$left groups=$g err=$err"
fi

# /etc/cron.d/cdp: system crontab lines are 5 time fields, a user, a command
cron=$TOP/scripts/cron/cdp
jobs=$(grep -vE '^[[:space:]]*(#|$)|^[A-Z_]+=' "$cron")
if [ "$(wc -l <<< "$jobs")" = 1 ] &&
   awk '{ exit !($1 == "*" && $2 == "*" && $3 == "*" && $4 == "*" && $5 == "*" &&
		 $6 == "root" && $7 == "cdpctl" && $8 == "schedule" && $9 == "run") }' <<< "$jobs" &&
   grep -q '^PATH=.*/usr/local/sbin' "$cron"; then
	tap_ok "cron.d/cdp: every minute, as root, cdpctl schedule run (PATH has /usr/local/sbin)"
else
	tap_fail "cron.d/cdp syntax"; tap_diag "$jobs"
fi
tap_done
