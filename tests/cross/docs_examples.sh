#!/bin/bash
# asan: the configuration parser and loader on every documented example
# Every configuration example in the documentation loads: README.md's
# fenced blocks and the .nf/.fi and .EX/.EE blocks of daemon/*.[58] are
# taken from the files themselves (never a copy kept here), each is written
# to a file of its own and checked with `tunsecd -t`, one ok/FAIL line per
# example naming FILE:LINE of its first line; tunsecd's own error message
# is shown with its line mapped back into the document.
#
# What counts as a configuration: a block whose first line that is neither
# blank nor a comment opens a section (`name {`), sets a key (`name =`) or
# includes (`include ...`). Shell commands, the architecture sketch and the
# error messages of tunsec.conf(5) are not, and are listed as skipped.
# Finding no example at all is a failure, so that a broken extraction
# cannot pass.
#
# Placeholders: `0x<N hex digits>` stands for N random hex digits (the docs
# say so next to each one); every occurrence gets its own value, since
# key_in and key_out must differ. A relative `include DIR/*.conf` gets DIR
# with one static-key tunnel in it (a `manual` subsection), so that the
# include is followed and its file checked too.
#
# strongSwan: an example whose introducing paragraph names strongSwan's
# swanctl.conf (README's Quickstart: "a strongSwan swanctl.conf with the
# same content on the other side works as well") is also loaded, unchanged,
# into a real charon with `swanctl --load-all` (tests/interop/swan.lib's
# charon: own strongswan.conf, own /run, own vici socket, own namespace).
# The file goes in whole, `tunsec { }` section included: charon never reads
# swanctl.conf, swanctl does, and it takes only its own top-level sections
# (connections, secrets, authorities, pools) and passes over the others, so
# splitting tunsec's section out would test a file other than the one the
# docs promise. Checked: swanctl succeeds and reports every ike-* secret
# and every connection of the example loaded, nothing failed or ignored,
# and `swanctl --list-conns` shows each connection with every local and
# remote `id` as written (a second setting on one line would have become
# part of the first one's value and fail here). There must be at least one
# such example.
#
# tests/run.sh exports BUILD (build directory) and TUNSEC_TOP (repository).

# swan.lib sources tests/lib.sh (ok/bad/check, lib_init, rand_hex, ns_add)
. "$(dirname "$0")/../interop/swan.lib"
lib_init tsDoc no-daemon
[ -x "$TUNSECD" ] || die "no $TUNSECD (make B=$BUILD)"

DOCS=(README.md daemon/tunsec.conf.5 daemon/tunsecd.8 daemon/tunsec.8)

# --- extraction ---------------------------------------------------------------

# extract DOC: every fenced block (Markdown) or .nf/.fi, .EX/.EE block
# (roff) of DOC into $WORK/ex-N/block, one line per block on stdout:
# "N FIRSTLINE SWAN INFO" (SWAN 1 if the paragraph before the block names
# strongSwan's swanctl.conf; INFO the fence's info string, or "-"). The
# block keeps the document's line numbering from FIRSTLINE on: roff
# requests inside it (.RS, .RE) become empty lines, and roff escapes are
# turned back into the characters a reader sees.
extract() {
	local doc=$1 kind=md
	case $doc in *.[1-9]) kind=roff ;; esac
	awk -v kind="$kind" -v dir="$WORK" -v n0="$NEX" '
	function unroff(s) {
		gsub(/\\f[BIRP]/, "", s)
		gsub(/\\&/, "", s)
		gsub(/\\-/, "-", s)
		gsub(/\\\(dq/, "\"", s)
		gsub(/\\\(aq/, "\047", s)
		gsub(/\\\(ti/, "~", s)
		gsub(/\\e/, "\\", s)
		return s
	}
	function open_block(first, info) {
		n++
		out = dir "/ex-" (n0 + n) "/block"
		system("mkdir -p \"" dir "/ex-" (n0 + n) "\"")
		if (para == "")
			para = lastpara
		swan = (para ~ /[sS]trong[sS]wan/ && para ~ /swanctl/) ? 1 : 0
		print (n0 + n), first, swan, (info == "" ? "-" : info)
		printf "" >out
		inblock = 1
	}
	function close_block() { close(out); inblock = 0; para = lastpara = "" }
	function end_para() { if (para != "") lastpara = para; para = "" }
	kind == "md" && /^```/ {
		if (!inblock) {
			info = substr($0, 4)
			gsub(/[ \t]/, "", info)
			open_block(NR + 1, info)
		} else {
			close_block()
		}
		next
	}
	kind == "roff" && /^\.(nf|EX)([ \t]|$)/ && !inblock { open_block(NR + 1, ""); next }
	kind == "roff" && /^\.(fi|EE)([ \t]|$)/ && inblock { close_block(); next }
	inblock {
		line = $0
		if (kind == "roff")
			line = (line ~ /^[.\047]/) ? "" : unroff(line)
		print line >>out
		next
	}
	# the paragraph before a block (the last one that has text: a blank
	# line or a .PP may stand between it and the block): Markdown up to a
	# blank line, roff up to a paragraph or section macro
	kind == "md" && /^[ \t]*$/ { end_para(); next }
	kind == "roff" && /^\.(PP|P|LP|SH|SS|TP|IP|HP)([ \t]|$)/ { end_para(); next }
	kind == "roff" && /^\.(RS|RE|sp|br|in|PD)([ \t]|$)/ { next }
	{ para = para " " $0 }
	' "$TUNSEC_TOP/$doc"
}

# is_config FILE: the first line that is neither blank nor a comment opens
# a section, sets a key or includes
is_config() {
	awk '/^[ \t]*(#|$)/ { next }
		{ ok = ($0 ~ /^[ \t]*[A-Za-z0-9_-]+[ \t]*[{=]/ || $0 ~ /^[ \t]*include[ \t]/); exit }
		END { exit !ok }' "$1"
}

# --- placeholders and referenced files ---------------------------------------

# fill BLOCK OUT: BLOCK with every 0x<N hex digits> replaced by fresh
# random hex, line for line
fill() {
	local text
	text=$(cat "$1")
	while [[ $text =~ 0x\<([0-9]+)\ hex\ digits\> ]]; do
		text=${text/"${BASH_REMATCH[0]}"/$(rand_hex $((BASH_REMATCH[1] / 2)))}
	done
	printf '%s\n' "$text" >"$2"
	chmod 600 "$2"
}

# include_fixtures CONF: for each relative `include DIR/PATTERN` of CONF,
# DIR with one static-key tunnel in it, the content of a `manual` section
includes_made=0
include_fixtures() {
	local conf=$1 pat d
	includes_made=0
	while read -r pat; do
		pat=${pat#\"}
		pat=${pat%\"}
		case $pat in /* | '') continue ;; esac
		d=$(dirname "$conf")/$(dirname "$pat")
		mkdir -p "$d"
		cat >"$d/docs-test.conf" <<EOF
# written by tests/cross/docs_examples.sh for an include of $conf
docs-test {
	local_addrs = 192.0.2.1
	remote_addrs = 198.51.100.9
	esp_proposals = aes256gcm16
	spi_in = 0x0000d001
	spi_out = 0x0000d002
	key_in = $(rand_hex 36)
	key_out = $(rand_hex 36)
	local_ts = 10.9.1.0/24
	remote_ts = 10.9.2.0/24
}
EOF
		chmod 600 "$d/docs-test.conf"
		includes_made=$((includes_made + 1))
	done < <(sed -nE 's/^[[:space:]]*include[[:space:]]+([^#]*[^#[:space:]]).*/\1/p' "$conf")
}

# cred_fixtures CONF: the credentials a relative `file =`, `certs =` or
# `cacerts =` of CONF names, made with strongSwan's pki beside CONF: an
# ECDSA key for each `file`, for each certificate a self-signed one (the
# key of the same stem when the example names it, so that key and
# certificate pair up) whose subject and SAN are the stem, which is what
# the examples use as the certificate's identity (vpn.example.org.pem is
# vpn.example.org's)
creds_made=0
cred_fixtures() {
	local conf=$1 dir key val stem ca
	dir=$(dirname "$conf")
	creds_made=0
	while read -r key val; do
		val=${val#\"}
		val=${val%\"}
		case $val in /* | '') continue ;; esac
		stem=${val%.*}
		[ -e "$dir/$stem.key" ] || pki --gen --type ecdsa --size 256 --outform pem \
			>"$dir/$stem.key" 2>/dev/null || return 1
		chmod 600 "$dir/$stem.key"
		[ "$key" = file ] && { creds_made=$((creds_made + 1)); continue; }
		ca=
		[ "$key" = cacerts ] && ca=--ca
		pki --self --in "$dir/$stem.key" --type ecdsa $ca --lifetime 30 \
			--dn "CN=$stem" --san "$stem" --outform pem >"$dir/$val" 2>/dev/null || return 1
		creds_made=$((creds_made + 1))
	done < <(sed -nE 's/^[[:space:]]*(file|certs|cacerts)[[:space:]]*=[[:space:]]*([^#[:space:]]+).*/\1 \2/p' "$conf" |
		sort -k1,1r) # file before certs and cacerts
}

# --- tunsecd -t -------------------------------------------------------------

# check_tunsecd DOC FIRST CONF: one ok/FAIL line; tunsecd's messages about
# CONF:K become DOC:(FIRST+K-1)
check_tunsecd() {
	local doc=$1 first=$2 conf=$3 out rc
	out=$("$TUNSECD" -t -c "$conf" 2>&1)
	rc=$?
	out=$(awk -v f="$conf:" -v doc="$doc" -v first="$first" '{
		s = $0
		o = ""
		while ((i = index(s, f)) > 0) {
			o = o substr(s, 1, i - 1)
			s = substr(s, i + length(f))
			if (match(s, /^[0-9]+/)) {
				o = o doc ":" (first + substr(s, 1, RLENGTH) - 1)
				s = substr(s, RLENGTH + 1)
			} else {
				o = o doc ":"
			}
		}
		o = o s
		sub(/^[0-9:.]+ tunsecd /, "", o)
		print o }' <<<"$out")
	if [ $rc = 0 ]; then
		ok "$doc:$first: tunsecd -t: ${out#"$doc: "}"
	else
		bad "$doc:$first: tunsecd -t exits $rc: $out"
	fi
}

# --- strongSwan ---------------------------------------------------------------

# sections_in CONF TOP: names of the subsections of top-level section TOP
sections_in() {
	awk -v top="$2" '{
		sub(/#.*/, "")
		line = $0
		while (match(line, /[A-Za-z0-9_-]+[ \t]*\{|\}/)) {
			tok = substr(line, RSTART, RLENGTH)
			line = substr(line, RSTART + RLENGTH)
			if (tok == "}") { depth--; continue }
			sub(/[ \t]*\{$/, "", tok)
			path[depth++] = tok
			if (depth == 2 && path[0] == top)
				print tok
		}
	}' "$1"
}

swan_up=0
# check_swan DOC FIRST CONF
check_swan() {
	local doc=$1 first=$2 conf=$3 out rc conns c s id problems=""
	if [ $swan_up = 0 ]; then
		[ -x "$CHARON" ] || { bad "$doc:$first: strongSwan's charon ($CHARON) missing"; return; }
		ns_add "tsDoc-$$"
		swan_start w "tsDoc-$$" || { bad "$doc:$first: charon did not start"; return; }
		swan_up=1
	fi
	cp "$conf" "${SWAN_DIR[w]}/swanctl.conf"
	# the credential directories swan_dir leaves out are only complained about
	out=$(swan_ctl w --load-all --noprompt 2>&1 | grep -v "^opening directory .* failed")
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || problems+=" swanctl exits $rc;"
	grep -qiE 'fail|ignored|invalid|missing' <<<"$out" &&
		problems+=" $(grep -iE 'fail|ignored|invalid|missing' <<<"$out" | tr '\n' ';')"
	for s in $(sections_in "$conf" secrets); do
		case $s in ike*) grep -qx "loaded ike secret '$s'" <<<"$out" ||
			problems+=" secret '$s' not loaded;" ;;
		esac
	done
	conns=$(sections_in "$conf" connections)
	[ -n "$conns" ] || problems+=" no connection in the example;"
	for c in $conns; do
		grep -qx "loaded connection '$c'" <<<"$out" || problems+=" connection '$c' not loaded;"
	done
	local listed
	listed=$(swan_ctl w --list-conns 2>/dev/null)
	for c in $conns; do
		grep -q "^$c: IKE" <<<"$listed" || problems+=" --list-conns lacks '$c';"
	done
	# every plain `id = X` of local/remote (secrets use id-*, not id;
	# quoted ids with blanks are left out)
	for id in $(sed -nE 's/^[[:space:]]*id[[:space:]]*=[[:space:]]*([^#[:space:]]+)[[:space:]]*(#.*)?$/\1/p' "$conf"); do
		grep -qx "    id: $id" <<<"$listed" || problems+=" --list-conns lacks id $id;"
	done
	if [ -z "$problems" ]; then
		ok "$doc:$first: swanctl --load-all into charon: $(grep -c '^loaded ' <<<"$out")" \
			"secrets/connections loaded, --list-conns shows ${conns//$'\n'/ } with its ids"
	else
		bad "$doc:$first: swanctl --load-all into charon:$problems"
		sed 's/^/     | /' <<<"$out"
	fi
}

# --- the examples -------------------------------------------------------------

NEX=0
found=0
swan_found=0
for doc in "${DOCS[@]}"; do
	[ -r "$TUNSEC_TOP/$doc" ] || { bad "$doc missing"; continue; }
	while read -r n first swan info; do
		NEX=$n
		block=$WORK/ex-$n/block
		case $info in
		sh | bash | shell | console | text)
			say "$doc:$first: skipped (\`\`\`$info)"
			continue
			;;
		esac
		if ! is_config "$block"; then
			say "$doc:$first: skipped (not a configuration: $(grep -m1 -v '^[[:space:]]*$' "$block" | cut -c1-40))"
			continue
		fi
		found=$((found + 1))
		conf=$WORK/ex-$n/tunsec.conf
		fill "$block" "$conf"
		include_fixtures "$conf"
		[ $includes_made = 0 ] || say "$doc:$first: wrote $includes_made included file(s) with one tunnel"
		cred_fixtures "$conf" || bad "$doc:$first: pki could not make the credentials the example names"
		[ $creds_made = 0 ] || say "$doc:$first: made $creds_made key(s)/certificate(s) the example names"
		check_tunsecd "$doc" "$first" "$conf"
		if [ "$swan" = 1 ]; then
			swan_found=$((swan_found + 1))
			check_swan "$doc" "$first" "$conf"
		fi
	done < <(extract "$doc")
done

check_ge "configuration examples found" $found 1
check_ge "examples the docs say strongSwan loads" $swan_found 1
swan_stop w
lib_finish
