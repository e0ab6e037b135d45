#!/usr/bin/env bash
# Installs what the tests need from Debian packages: Dovecot (IMAP, POP3),
# isync (mbsync, the benchmark's reference) and fetchmail (its reference
# for a run that finds nothing new). Prints the exact command when it
# cannot install them itself, or when moto or Node.js is missing.
set -euo pipefail

# moto (the AWS stand-in) and Node.js (the CDK CLI) come from PyPI and
# Debian/NodeSource, which this script does not reach on its own: say the
# exact command when they are missing.
missing=0
if ! python3 -c 'import moto.server' >/dev/null 2>&1; then
	echo "deps: the AWS adapter tests need the moto server; install it with:" >&2
	echo "  python3 -m pip install 'moto[server]==5.2.1'" >&2
	missing=1
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "deps: the CDK tests need Node.js 20 and npm; install them with:" >&2
	echo "  apt-get install -y nodejs npm" >&2
	missing=1
fi
[ "$missing" -eq 0 ] || exit 1

pkgs=()
[ -x /usr/sbin/dovecot ] || pkgs+=(dovecot-imapd dovecot-pop3d)
[ -e /usr/lib/dovecot/imap ] || pkgs+=(dovecot-imapd)
[ -e /usr/lib/dovecot/pop3 ] || pkgs+=(dovecot-pop3d)
command -v mbsync >/dev/null 2>&1 || pkgs+=(isync)
command -v fetchmail >/dev/null 2>&1 || pkgs+=(fetchmail)
if [ ${#pkgs[@]} -eq 0 ]; then
	exit 0
fi
# de-duplicate
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs[*]}"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		cmd="sudo sh -c '$cmd'"
	else
		echo "deps: missing ${pkgs[*]}; install them with:" >&2
		echo "  sudo sh -c '$cmd'" >&2
		exit 1
	fi
fi
echo "deps: installing ${pkgs[*]}" >&2
# The packages' own service must not start: the tests run private instances.
if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
sh -c "$cmd" >&2
