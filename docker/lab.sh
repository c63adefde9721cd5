#!/usr/bin/env bash
# mailcheck lab: render the configuration templates of docker/ into a lab directory and start,
# stop or inspect the lab's servers. Shared by the native lab (scripts/lab-up, scripts/lab-down)
# and the container (docker/Dockerfile uses `lab.sh container` as its entrypoint).
#
# Usage: lab.sh up [VARIANT...]    render, then start DNS, the MTA-STS server and the variants
#                                  (default: ref weak ref6 ps; ref6 is the reference over IPv6 in
#                                  the network namespace mailcheck-v6, ps the reference behind
#                                  postscreen on 127.0.100.41)
#        lab.sh down               stop everything this lab started (by pid file)
#        lab.sh status             say what runs (exit 3 when nothing does)
#        lab.sh health [VARIANT...]  exit 0 when every endpoint greets as it should
#        lab.sh container          entrypoint: up (variants from MAILCHECK_LAB_VARIANTS, default
#                                  ref), then stay in the foreground showing the logs; stop on
#                                  SIGTERM/SIGINT
#        lab.sh ensure-user        create the lab's mailbox user (used by scripts/lab-install)
#        lab.sh render [VARIANT...]  render into the lab dir, start nothing (try templates out
#                                  with MAILCHECK_LAB_DIR set elsewhere)
#
# Environment: MAILCHECK_LAB_DIR (default /var/lib/mailcheck-lab), MAILCHECK_LAB_WAIT (seconds
# to wait for the ports, default 30), MAILCHECK_LAB_CONTAINER=1 (set by the Dockerfile).
#
# Every server binds only addresses of 127.0.100.0/24 (Linux carries all of 127/8 on lo, no
# `ip addr add` needed). Daemons resolve through the lab DNS: natively they run in a private
# mount namespace where the lab's resolv.conf is bind-mounted over /etc/resolv.conf (the
# machine's resolver is untouched); in a container /etc/resolv.conf is the container's own.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # '&' in a replacement stays a '&' (bash 5.2)

# --- the lab's fixed contract (tests rely on it) ---
readonly REF_ADDR=127.0.100.10
readonly WEAK_ADDR=127.0.100.20
readonly DNS_ADDR=127.0.100.53
readonly OUTSIDE_MX_ADDR=127.0.100.99 # MX of outside.test; nothing listens there
readonly CHECKER_ADDR=127.0.100.2     # the checker's source address; trusted by nobody
readonly REF_PORTS=(25 587 465 143 993 110 995)
readonly WEAK_PORTS=(25 587 143 110)
# WEAKNESS endpoint of the weak variant: an `openssl s_server` that speaks TLS 1.0 only.
readonly LEGACY_ADDR=127.0.100.30
readonly LEGACY_PORT=465
# Lab v2: the MTA-STS policy server (nginx, SNI vhosts mta-sts.<domain>).
readonly MTASTS_ADDR=127.0.100.80
readonly MTASTS_DOMAINS=(ref.test dane.test stsmiss.test)
# Zones signed with ldns-signzone (ECDSAP256SHA256, NSEC); test. is the trust anchor.
readonly SIGNED_ZONES=(test ref.test dane.test bogus.test)
# RRSIG validity: from an hour before the lab starts to 60 days after.
readonly RRSIG_DAYS=60
# IPv6: a network namespace joined to the root namespace by a veth pair, a ULA prefix.
readonly V6_NETNS=mailcheck-v6
readonly V6_HOST_IF=mc6-host
readonly V6_NS_IF=mc6-ns
readonly V6_HOST_ADDR=fd00:6d63:6b::1 # root-namespace end: the checker's IPv6 source address
readonly V6_REF_ADDR=fd00:6d63:6b::10 # namespace end: the reference over IPv6 (mail6.ref.test)
readonly V6_DEAD_ADDR=fd00:6d63:6b::99 # dead6.ref.test: nothing there
# Variant ps: the reference with postscreen(8) and its after-220 tests on port 25.
readonly PS_ADDR=127.0.100.41
readonly OPENSSL=/usr/bin/openssl
readonly LAB_USER=mailcheck-lab
readonly ALL_VARIANTS=(ref weak ref6 ps)

TEMPLATES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB="${MAILCHECK_LAB_DIR:-/var/lib/mailcheck-lab}"
WAIT_SECS="${MAILCHECK_LAB_WAIT:-30}"
IN_CONTAINER="${MAILCHECK_LAB_CONTAINER:-0}"

readonly POSTFIX_MASTER=/usr/lib/postfix/sbin/master
readonly DOVECOT=/usr/sbin/dovecot
readonly NSD=/usr/sbin/nsd
readonly OPENDKIM=/usr/sbin/opendkim
readonly NGINX=/usr/sbin/nginx

say() { printf 'lab: %s\n' "$*"; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

need_tools() {
    local t missing=()
    for t in postfix "$DOVECOT" "$NSD" nsd-checkconf nsd-checkzone "$OPENDKIM" openssl unshare \
        ldns-keygen ldns-signzone ldns-key2ds "$NGINX" curl; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || die "missing ${missing[*]}: run scripts/lab-install first"
}

ensure_user() {
    if ! getent passwd "$LAB_USER" >/dev/null; then
        useradd --system --user-group --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin --comment "mailcheck lab mailboxes" "$LAB_USER"
        say "created system user $LAB_USER"
    fi
}

ports_of() { # variant
    case $1 in
        ref | ref6 | ps) echo "${REF_PORTS[@]}" ;;
        weak) echo "${WEAK_PORTS[@]}" ;;
        *) die "unknown variant '$1' (known: ${ALL_VARIANTS[*]})" ;;
    esac
}
addr_of() { case $1 in ref) echo "$REF_ADDR" ;; weak) echo "$WEAK_ADDR" ;; ref6) echo "$V6_REF_ADDR" ;; ps) echo "$PS_ADDR" ;; esac; }
# addr:port, with brackets around an IPv6 address.
hostport() { if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }

# True when something accepts TCP connections on addr:port.
tcp_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
declare -A VARS=()

render() { # template destination
    local text name
    text="$(<"$1")"
    for name in "${!VARS[@]}"; do
        text="${text//@"$name"@/${VARS[$name]}}"
    done
    if [[ $text =~ @[A-Z][A-Z0-9_]*@ ]]; then
        die "unknown placeholder ${BASH_REMATCH[0]} in $1"
    fi
    printf '%s\n' "$text" >"$2"
    # Postfix pauses ~2 s before reading a configuration file modified in the last second or
    # two; a rendered file is complete, so date it a little in the past.
    touch -d "@$((EPOCHSECONDS - 10))" "$2"
}

# A private CA (kept across restarts while valid for 30 more days) and its server certificates.
make_ca() {
    local ca="$LAB/ca"
    mkdir -p "$ca"
    chmod 755 "$ca"
    if [[ -s $ca/ca.pem && -s $ca/ca.key ]] &&
        openssl x509 -in "$ca/ca.pem" -noout -checkend 2592000 >/dev/null 2>&1; then
        return 0
    fi
    say "generating the lab CA ($ca/ca.pem)"
    cat >"$ca/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
O = mailcheck lab
CN = mailcheck lab CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    (umask 077 && openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$ca/ca.key")
    openssl req -x509 -new -config "$ca/ca.cnf" -key "$ca/ca.key" -sha256 -days 3650 \
        -set_serial "0x$(openssl rand -hex 16)" -out "$ca/ca.pem"
    chmod 644 "$ca/ca.pem"
    # A new CA invalidates every certificate it did not sign.
    rm -f "$LAB/ref/tls/server.crt" "$LAB"/mta-sts/tls/*.crt
}

# A server certificate signed by the lab CA: <base>.crt, <base>.key (kept across renewals, so
# that a DANE-EE 3 1 1 record stays valid), <base>.san (the subjectAltName it was made for: a
# changed name list remakes the certificate). Renewed 30 days before it expires.
make_leaf_cert() { # base common-name subjectAltName
    local base=$1 cn=$2 san=$3 dir
    dir="$(dirname "$base")"
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [[ -s $base.crt && -s $base.key && $(cat "$base.san" 2>/dev/null) == "$san" ]] &&
        openssl x509 -in "$base.crt" -noout -checkend 2592000 >/dev/null 2>&1 &&
        openssl verify -CAfile "$LAB/ca/ca.pem" "$base.crt" >/dev/null 2>&1; then
        return 0
    fi
    say "generating the certificate of $cn"
    cat >"$base.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    if [[ ! -s $base.key ]]; then
        (umask 077 && openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$base.key")
    fi
    openssl req -new -key "$base.key" -subj "/O=mailcheck lab/CN=$cn" -out "$base.csr"
    openssl x509 -req -in "$base.csr" -CA "$LAB/ca/ca.pem" -CAkey "$LAB/ca/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 397 -sha256 -extfile "$base.ext" \
        -out "$base.crt" 2>/dev/null
    rm -f "$base.csr" "$base.ext"
    chmod 644 "$base.crt"
    printf '%s\n' "$san" >"$base.san"
}

# Certificate of the reference (mail.ref.test and its addresses; mail6/dead6 are the same
# server over IPv6), and the rollover key published in TLSA beside the live one.
make_ref_cert() {
    make_leaf_cert "$LAB/ref/tls/server" mail.ref.test \
        "DNS:mail.ref.test, IP:$REF_ADDR, DNS:mail6.ref.test, DNS:dead6.ref.test, IP:$V6_REF_ADDR, DNS:mailps.ref.test, IP:$PS_ADDR"
    if [[ ! -s $LAB/ref/tls/rollover.key ]]; then
        say "generating the reference's rollover key (published in TLSA, not yet used)"
        (umask 077 && openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -out "$LAB/ref/tls/rollover.key")
    fi
}

# Certificates of the MTA-STS policy hosts, each for exactly its name.
make_mta_sts_certs() {
    local d
    for d in "${MTASTS_DOMAINS[@]}"; do
        make_leaf_cert "$LAB/mta-sts/tls/mta-sts.$d" "mta-sts.$d" "DNS:mta-sts.$d"
    done
}

# SHA-256 of a key's SubjectPublicKeyInfo (DANE selector 1, matching type 1), in hex.
spki_sha256() { # private-key-file
    openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1
}

# WEAKNESS: a self-signed certificate for the wrong host name.
make_weak_cert() {
    local tls="$LAB/weak/tls"
    mkdir -p "$tls"
    chmod 755 "$tls"
    if [[ -s $tls/server.crt && -s $tls/server.key ]] &&
        openssl x509 -in "$tls/server.crt" -noout -checkend 2592000 >/dev/null 2>&1; then
        return 0
    fi
    say "generating the self-signed certificate of the weak server (CN=wrong.example)"
    (umask 077 && openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tls/server.key")
    openssl req -x509 -new -key "$tls/server.key" -subj "/CN=wrong.example" -sha256 -days 397 \
        -addext "subjectAltName = DNS:wrong.example" -out "$tls/server.crt"
    chmod 644 "$tls/server.crt"
}

# WEAKNESS: the weak server's IMAP/POP3 certificate (Dovecot) is for the right name and signed
# by the lab CA, but EXPIRED: valid for one second from the CA's own notBefore, so that its
# chain still verifies within its validity period (tls.cert.trusted passes with --ca-file) while
# tls.cert.expiry must fail. `openssl ca` is the OpenSSL 3.0 tool that takes explicit dates.
make_expired_cert() {
    local tls="$LAB/weak/tls" work start end
    if [[ -s $tls/expired.crt && -s $tls/expired.key ]] &&
        openssl verify -no_check_time -CAfile "$LAB/ca/ca.pem" "$tls/expired.crt" >/dev/null 2>&1; then
        return 0
    fi
    say "generating the expired certificate of mail.weak.test (IMAP/POP3)"
    start="$(openssl x509 -in "$LAB/ca/ca.pem" -noout -startdate | cut -d= -f2)"
    end="$(date -u -d "$start + 1 second" +%Y%m%d%H%M%SZ)"
    start="$(date -u -d "$start" +%Y%m%d%H%M%SZ)"
    work="$(mktemp -d)"
    : >"$work/index.txt"
    openssl rand -hex 16 >"$work/serial"
    cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = lab
[lab]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
organizationName = optional
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mail.weak.test, IP:$WEAK_ADDR
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
    (umask 077 && openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tls/expired.key")
    openssl req -new -key "$tls/expired.key" -subj "/O=mailcheck lab/CN=mail.weak.test" -out "$work/req.csr"
    openssl ca -batch -notext -config "$work/ca.cnf" -cert "$LAB/ca/ca.pem" -keyfile "$LAB/ca/ca.key" \
        -startdate "$start" -enddate "$end" -extensions server \
        -in "$work/req.csr" -out "$tls/expired.crt" 2>"$work/ca.err" || {
        cat "$work/ca.err" >&2
        die "could not make the expired certificate (openssl ca)"
    }
    rm -rf "$work"
    chmod 644 "$tls/expired.crt"
}

# The test users' password (one for test@ref.test and test@weak.test), kept across restarts.
make_password() {
    local dir="$LAB/secrets"
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ ! -s $dir/test-password ]]; then
        say "generating the test users' password ($dir/test-password)"
        (umask 077 && openssl rand -base64 24 | tr -dc 'A-Za-z0-9' | head -c 24 >"$dir/test-password")
    fi
    chmod 600 "$dir/test-password"
}

# Dovecot passwd-file: user:{SHA512-CRYPT}hash:uid:gid::home::
make_users() { # variant domain
    local v=$1 domain=$2 uid gid hash file="$LAB/$1/dovecot-users"
    uid="$(id -u "$LAB_USER")"
    gid="$(id -g "$LAB_USER")"
    hash="$(openssl passwd -6 -stdin <"$LAB/secrets/test-password")"
    mkdir -p "$LAB/$v/mail"
    chown "$LAB_USER:$LAB_USER" "$LAB/$v/mail"
    chmod 700 "$LAB/$v/mail"
    printf 'test@%s:{SHA512-CRYPT}%s:%s:%s::%s::\n' "$domain" "$hash" "$uid" "$gid" "$LAB/$v/mail/test" >"$file.new"
    chown root:dovecot "$file.new"
    chmod 640 "$file.new"
    mv -f "$file.new" "$file"
}

# DKIM key of ref.test (selector "mail"), kept across restarts; sets VARS[DKIM_TXT].
make_dkim() {
    local dir="$LAB/ref/opendkim" b64 txt i
    mkdir -p "$dir"
    if [[ ! -s $dir/mail.private ]]; then
        say "generating the DKIM key of ref.test (selector mail)"
        (umask 077 && openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/mail.private")
    fi
    chown -R opendkim:opendkim "$dir"
    chmod 700 "$dir"
    chmod 600 "$dir/mail.private"
    b64="$(openssl pkey -in "$dir/mail.private" -pubout -outform DER 2>/dev/null | base64 -w0)"
    # A TXT string holds at most 255 bytes: split the key into quoted chunks.
    txt='"v=DKIM1; k=rsa; "'
    for ((i = 0; i < ${#b64}; i += 200)); do
        if ((i == 0)); then txt+=" \"p=${b64:i:200}\""; else txt+=" \"${b64:i:200}\""; fi
    done
    VARS[DKIM_TXT]="$txt"
    # The milter socket directory: opendkim's, reachable by group postfix only.
    mkdir -p "$LAB/ref/opendkim-run"
    chown opendkim:postfix "$LAB/ref/opendkim-run"
    chmod 750 "$LAB/ref/opendkim-run"
}

# DNSSEC keys of a signed zone, kept across restarts: <labdir>/dns/keys/<zone>/{ksk,zsk}.{key,private}
# (ECDSAP256SHA256). bogus.test also gets a "stray" KSK that is never published: its DS in
# test. matches none of bogus.test's keys.
make_zone_keys() { # zone
    local zone=$1 dir="$LAB/dns/keys/$1" role base roles=(ksk zsk)
    [[ $zone == bogus.test ]] && roles+=(stray)
    mkdir -p "$dir"
    chmod 700 "$LAB/dns/keys" "$dir"
    for role in "${roles[@]}"; do
        [[ -s $dir/$role.private && -s $dir/$role.key ]] && continue
        say "generating the DNSSEC $role of $zone."
        if [[ $role == zsk ]]; then
            base="$(cd "$dir" && ldns-keygen -a ECDSAP256SHA256 "$zone.")"
        else
            base="$(cd "$dir" && ldns-keygen -a ECDSAP256SHA256 -k "$zone.")"
        fi
        mv -f "$dir/$base.private" "$dir/$role.private"
        mv -f "$dir/$base.key" "$dir/$role.key"
        rm -f "$dir/$base.ds"
    done
}

# A key file's DNSKEY (or its SHA-256 DS) as one clean zone-file line with a TTL.
key_record() { # ds|dnskey keyfile
    local owner class type rest
    if [[ $1 == ds ]]; then
        read -r owner _ class type rest < <(ldns-key2ds -n -2 "$2")
    else
        read -r owner class type rest < <(sed -e 's/;.*//' "$2")
    fi
    printf '%s 300 %s %s %s\n' "$owner" "$class" "$type" "$rest"
}

# Signs a rendered zone in place: the unsigned text stays beside it as <zone>.unsigned.
sign_zone() { # zone file
    local zone=$1 file=$2 dir="$LAB/dns/keys/$1"
    mv -f "$file" "$file.unsigned"
    ldns-signzone -i "$((EPOCHSECONDS - 3600))" -e "$((EPOCHSECONDS + RRSIG_DAYS * 86400))" \
        -f "$file" "$file.unsigned" "$dir/ksk" "$dir/zsk" ||
        die "ldns-signzone failed for $zone"
    chmod 644 "$file"
    touch -d "@$((EPOCHSECONDS - 10))" "$file"
}

# Trust anchor of the lab tree: test.'s KSK as DS and as DNSKEY (zone-file syntax, for
# mailcheck --trust-anchor), and as a BIND trust-anchors clause (delv -a).
write_trust_anchors() {
    local dnskey flags proto alg key
    key_record ds "$LAB/dns/keys/test/ksk.key" >"$LAB/dns/trust-anchor.ds"
    dnskey="$(key_record dnskey "$LAB/dns/keys/test/ksk.key")"
    printf '%s\n' "$dnskey" >"$LAB/dns/trust-anchor.dnskey"
    read -r _ _ _ _ flags proto alg key <<<"$dnskey"
    printf 'trust-anchors {\n    test. static-key %s %s %s "%s";\n};\n' "$flags" "$proto" "$alg" "$key" \
        >"$LAB/dns/trust-anchor.bind"
    chmod 644 "$LAB"/dns/trust-anchor.*
}

render_dns() {
    local z zone file ds='' d
    mkdir -p "$LAB/dns/zones" "$LAB/dns/state"
    chmod 755 "$LAB/dns" "$LAB/dns/zones"
    chown nsd:nsd "$LAB/dns/state"
    for zone in "${SIGNED_ZONES[@]}"; do make_zone_keys "$zone"; done
    # Delegations signed in test.: the children's DS (bogus.test: the stray key's).
    for d in ref.test dane.test; do ds+="$(key_record ds "$LAB/dns/keys/$d/ksk.key")"$'\n'; done
    ds+="$(key_record ds "$LAB/dns/keys/bogus.test/stray.key")"
    VARS[TEST_DS]="$ds"
    # TLSA 3 1 1: the reference's live key and its rollover key; dane.test: 32 bytes of nothing.
    VARS[REF_TLSA]="3 1 1 $(spki_sha256 "$LAB/ref/tls/server.key")"
    VARS[ROLLOVER_TLSA]="3 1 1 $(spki_sha256 "$LAB/ref/tls/rollover.key")"
    VARS[DANE_BAD_DIGEST]="$(printf '%s' 'mailcheck lab: this TLSA record matches no key' | sha256sum | cut -d' ' -f1)"
    render "$TEMPLATES/dns/nsd.conf" "$LAB/dns/nsd.conf"
    rm -f "$LAB"/dns/zones/*
    for z in "$TEMPLATES"/dns/*.zone; do
        zone="$(basename "$z" .zone)"
        file="$LAB/dns/zones/$zone.zone"
        render "$z" "$file"
        nsd-checkzone "$zone" "$file" >/dev/null || die "zone $zone does not load (template $z)"
    done
    for zone in "${SIGNED_ZONES[@]}"; do
        sign_zone "$zone" "$LAB/dns/zones/$zone.zone"
        nsd-checkzone "$zone" "$LAB/dns/zones/$zone.zone" >/dev/null || die "signed zone $zone does not load"
    done
    write_trust_anchors
    nsd-checkconf "$LAB/dns/nsd.conf" || die "invalid $LAB/dns/nsd.conf"
    printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$DNS_ADDR" >"$LAB/resolv.conf"
    # Inside the IPv6 namespace the lab DNS is NSD's address on the root end of the veth pair.
    printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$V6_HOST_ADDR" >"$LAB/resolv6.conf"
}

# The MTA-STS policy server: nginx.conf, the policies (docker/mta-sts/<domain>.txt served as
# https://mta-sts.<domain>/.well-known/mta-sts.txt), temp dirs, all under <labdir>/mta-sts.
render_mta_sts() {
    local m="$LAB/mta-sts" d
    mkdir -p "$m/tmp" "$m/www"
    chmod 755 "$m" "$m/www"
    rm -rf "${m:?}/www/"*
    for d in "${MTASTS_DOMAINS[@]}"; do
        mkdir -p "$m/www/mta-sts.$d/.well-known"
        install -m 644 "$TEMPLATES/mta-sts/$d.txt" "$m/www/mta-sts.$d/.well-known/mta-sts.txt"
    done
    chmod -R a+rX "$m/www"
    render "$TEMPLATES/mta-sts/nginx.conf" "$m/nginx.conf"
    "$NGINX" -q -t -p "$m" -c "$m/nginx.conf" -e "$LAB/log/mta-sts-nginx.log" ||
        die "invalid $m/nginx.conf"
}

render_variant() { # variant
    local v=$1 domain="${1%6}.test" tmpl="$TEMPLATES/${1%6}" f
    if [[ $v == ps ]]; then domain=ref.test tmpl="$TEMPLATES/ref"; fi
    # The reference's templates serve ref and ref6 (same server, other address and directories).
    VARS[VNAME]=$v
    VARS[VDIR]="$LAB/$v"
    if [[ $v == ref6 ]]; then
        VARS+=([LISTEN]="[$V6_REF_ADDR]" [LISTEN_ADDR]="$V6_REF_ADDR" [INET_PROTOCOLS]=all
            [SMTP_BIND4]='' [SMTP_BIND6]="$V6_REF_ADDR" [MYNETWORKS]="[$V6_REF_ADDR]/128")
    elif [[ $v == ps ]]; then
        VARS+=([LISTEN]="$PS_ADDR" [LISTEN_ADDR]="$PS_ADDR" [INET_PROTOCOLS]=ipv4
            [SMTP_BIND4]="$PS_ADDR" [SMTP_BIND6]='' [MYNETWORKS]="$PS_ADDR/32")
    else
        VARS+=([LISTEN]="$REF_ADDR" [LISTEN_ADDR]="$REF_ADDR" [INET_PROTOCOLS]=ipv4
            [SMTP_BIND4]="$REF_ADDR" [SMTP_BIND6]='' [MYNETWORKS]="$REF_ADDR/32")
    fi
    mkdir -p "$LAB/$v/postfix" "$LAB/$v/dovecot" "$LAB/$v/dovecot-state"
    chmod 755 "$LAB/$v" "$LAB/$v/postfix" "$LAB/$v/dovecot"
    for f in main.cf master.cf vmailbox virtual; do
        render "$tmpl/$f" "$LAB/$v/postfix/$f"
    done
    render "$tmpl/dovecot.conf" "$LAB/$v/dovecot/dovecot.conf"
    if [[ $v == ps ]]; then
        # The reference's main.cf plus the postscreen settings; postscreen on port 25.
        render "$TEMPLATES/ps/master.cf" "$LAB/ps/postfix/master.cf"
        render "$TEMPLATES/ps/main.cf" "$LAB/ps/postfix/main.cf.ps"
        cat "$LAB/ps/postfix/main.cf.ps" >>"$LAB/ps/postfix/main.cf"
        rm -f "$LAB/ps/postfix/main.cf.ps" "$LAB/ps/postfix-data/postscreen_cache.db"
        touch -d "@$((EPOCHSECONDS - 10))" "$LAB/ps/postfix/main.cf"
    fi
    # Dovecot's base_dir holds only sockets and its pid file: start from an empty one (the lab
    # is stopped here; a stale anvil-auth-penalty socket would delay auth by 5 s).
    rm -rf "$LAB/$v/dovecot-run"
    make_users "$v" "$domain"
    if [[ $v == ref ]]; then
        render "$TEMPLATES/ref/opendkim.conf" "$LAB/ref/opendkim/opendkim.conf"
        chown opendkim:opendkim "$LAB/ref/opendkim/opendkim.conf"
        chmod 644 "$LAB/ref/opendkim/opendkim.conf"
        "$OPENDKIM" -n -x "$LAB/ref/opendkim/opendkim.conf" ||
            die "invalid $LAB/ref/opendkim/opendkim.conf"
    fi
    "$DOVECOT" -c "$LAB/$v/dovecot/dovecot.conf" -n >/dev/null ||
        die "invalid $LAB/$v/dovecot/dovecot.conf"
    # `postfix start` creates the queue subdirectories and checks their ownership.
    mkdir -p "$LAB/$v/postfix-queue"
    chmod 755 "$LAB/$v/postfix-queue"
    postconf -c "$LAB/$v/postfix" -n >/dev/null || die "invalid $LAB/$v/postfix/main.cf"
}

render_all() { # variants...
    if [[ ! -d $LAB ]]; then
        mkdir -p "$LAB"
        chmod 755 "$LAB"
    fi
    # Postfix, Dovecot, NSD and OpenDKIM run as their own users and must reach their files.
    local d="$LAB" safe_keys=true
    while [[ $d != / ]]; do
        (($(stat -c '0%a' "$d") & 1)) ||
            die "$d must be traversable by everyone (chmod o+x), or set MAILCHECK_LAB_DIR elsewhere"
        d="$(dirname "$d")"
        if (($(stat -c '0%a' "$d") & 2)); then safe_keys=false; fi
    done
    mkdir -p "$LAB/log"
    chmod 755 "$LAB/log"
    # Each start gets fresh logs; the previous run's stay beside them as *.log.old.
    local f
    for f in "$LAB"/log/*.log; do
        if [[ -e $f ]]; then mv -f "$f" "$f.old"; fi
    done
    rm -f "$LAB"/log/start-*.out
    VARS=([LAB]="$LAB" [REF_ADDR]="$REF_ADDR" [WEAK_ADDR]="$WEAK_ADDR" [DNS_ADDR]="$DNS_ADDR"
        [OUTSIDE_MX_ADDR]="$OUTSIDE_MX_ADDR" [SERIAL]="$(date +%s)" [OPENDKIM_SAFE_KEYS]="$safe_keys"
        [MTASTS_ADDR]="$MTASTS_ADDR" [STS_ID]="$(date -u +%Y%m%dT%H%M%S)"
        [V6_REF_ADDR]="$V6_REF_ADDR" [V6_DEAD_ADDR]="$V6_DEAD_ADDR" [NSD_V6]="# (no IPv6 namespace)"
        [PS_ADDR]="$PS_ADDR")
    local v
    for v in "$@"; do
        if [[ $v == ref6 ]]; then VARS[NSD_V6]="ip-address: $V6_HOST_ADDR"; fi
    done
    make_ca
    make_ref_cert
    make_mta_sts_certs
    make_weak_cert
    make_expired_cert
    make_password
    make_dkim
    render_dns
    render_mta_sts
    for v in "$@"; do render_variant "$v"; done
}

# ---------------------------------------------------------------------------------------------
# Starting
# ---------------------------------------------------------------------------------------------

# Run a command so that it resolves through the lab DNS.
with_lab_dns() {
    if [[ $IN_CONTAINER == 1 ]]; then
        "$@"
    else
        # shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
        unshare --mount --propagation private -- \
            sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$LAB/resolv.conf" "$@"
    fi
}

# Run a command inside the IPv6 namespace, resolving through NSD's address there.
in_v6_netns() {
    # shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
    ip netns exec "$V6_NETNS" unshare --mount --propagation private -- \
        sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$LAB/resolv6.conf" "$@"
}

# The IPv6 namespace: a veth pair, fd00:6d63:6b::1 on the root end, fd00:6d63:6b::10 on the
# namespace end, no link-local addresses, no route but the /64 itself (nothing beyond the lab).
netns_up() {
    command -v ip >/dev/null || die "ip (iproute2) is missing: run scripts/lab-install"
    say "creating the IPv6 namespace $V6_NETNS ($V6_HOST_ADDR <-> $V6_REF_ADDR)"
    if [[ ! -e /run/netns/$V6_NETNS ]]; then
        ip netns add "$V6_NETNS" ||
            die "ip netns add failed (needs CAP_SYS_ADMIN and CAP_NET_ADMIN); start without IPv6: scripts/lab-up ref weak"
    fi
    if ! ip link show "$V6_HOST_IF" >/dev/null 2>&1; then
        ip link add "$V6_HOST_IF" type veth peer name "$V6_NS_IF" netns "$V6_NETNS"
    fi
    ip link set "$V6_HOST_IF" addrgenmode none
    ip -n "$V6_NETNS" link set "$V6_NS_IF" addrgenmode none
    ip addr replace "$V6_HOST_ADDR/64" dev "$V6_HOST_IF" nodad
    ip -n "$V6_NETNS" addr replace "$V6_REF_ADDR/64" dev "$V6_NS_IF" nodad
    ip -n "$V6_NETNS" link set lo up
    ip -n "$V6_NETNS" link set "$V6_NS_IF" up
    ip link set "$V6_HOST_IF" up
}

# Removes the veth pair and the namespace, once no process runs inside any more.
netns_down() {
    [[ -e /run/netns/$V6_NETNS ]] || return 0
    local pids
    pids="$(ip netns pids "$V6_NETNS" 2>/dev/null | tr '\n' ' ')"
    if [[ -n ${pids// /} ]]; then
        warn "namespace $V6_NETNS still holds processes ($pids): left in place"
        return 0
    fi
    if ip link show "$V6_HOST_IF" >/dev/null 2>&1; then ip link del "$V6_HOST_IF"; fi
    ip netns del "$V6_NETNS"
    say "removed the IPv6 namespace $V6_NETNS"
}

prepare_resolver() {
    if [[ $IN_CONTAINER == 1 ]]; then
        # The container's own resolv.conf (Docker gives each container a private copy).
        cat "$LAB/resolv.conf" >/etc/resolv.conf
    elif ! unshare --mount --propagation private -- true 2>/dev/null; then
        die "unshare --mount is not permitted here: the lab needs it to give its daemons the lab DNS"
    fi
}

# Start a daemon with its standard streams on a file, so that it does not keep the caller's
# terminal or pipe open (`scripts/lab-up | tee` must end); show what it said.
launch() { # name command...
    local name=$1 out="$LAB/log/start-$1.out" rc=0
    shift
    say "starting $name"
    "$@" </dev/null >"$out" 2>&1 || rc=$?
    if [[ -s $out ]]; then sed 's/^/  | /' "$out"; fi
    ((rc == 0)) || die "$name failed to start (exit $rc)"
}

start_dns() {
    launch nsd "$NSD" -c "$LAB/dns/nsd.conf"
}

start_mta_sts() {
    launch nginx "$NGINX" -p "$LAB/mta-sts" -c "$LAB/mta-sts/nginx.conf" -e "$LAB/log/mta-sts-nginx.log"
}

# True when the reference's MTA-STS policy is served over HTTPS with its lab-CA certificate.
mta_sts_ready() {
    curl -sf --max-time 3 --cacert "$LAB/ca/ca.pem" --resolve "mta-sts.ref.test:443:$MTASTS_ADDR" \
        https://mta-sts.ref.test/.well-known/mta-sts.txt 2>/dev/null | grep -q '^mode: enforce'
}

start_variant() { # variant
    local v=$1
    if [[ $v == ref6 ]]; then
        launch "dovecot-$v" in_v6_netns "$DOVECOT" -c "$LAB/$v/dovecot/dovecot.conf"
        launch "postfix-$v" in_v6_netns postfix -c "$LAB/$v/postfix" start
        return
    fi
    launch "dovecot-$v" with_lab_dns "$DOVECOT" -c "$LAB/$v/dovecot/dovecot.conf"
    if [[ $v == ref ]]; then
        launch "opendkim-$v" with_lab_dns "$OPENDKIM" -x "$LAB/ref/opendkim/opendkim.conf"
    fi
    launch "postfix-$v" with_lab_dns postfix -c "$LAB/$v/postfix" start
    if [[ $v == weak ]]; then start_legacy_tls; fi
}

# WEAKNESS endpoint of the weak variant: `openssl s_server` on $LEGACY_ADDR:$LEGACY_PORT with
# implicit TLS 1.0 only, at @SECLEVEL=0 (what tls.protocol.min must catch on a server that
# speaks nothing newer). `-www` answers HTTP after the handshake, so it never reads stdin.
# setsid detaches it from this shell; its pid goes to a pid file like every lab daemon's.
start_legacy_tls() {
    local pidfile="$LAB/weak/legacy-tls.pid"
    say "starting openssl s_server (TLS 1.0 only) on $LEGACY_ADDR:$LEGACY_PORT"
    rm -f "$pidfile"
    # shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
    setsid -f sh -c 'echo $$ >"$0" && exec "$@"' "$pidfile" \
        "$OPENSSL" s_server -accept "$LEGACY_ADDR:$LEGACY_PORT" -tls1 -cipher 'ALL:@SECLEVEL=0' \
        -cert "$LAB/weak/tls/server.crt" -key "$LAB/weak/tls/server.key" -www -quiet \
        </dev/null >>"$LAB/log/weak-legacy-tls.log" 2>&1
}

show_logs() {
    local f
    for f in "$LAB"/log/*.log; do
        [[ -s $f ]] || continue
        printf '\n==> %s (last 20 lines) <==\n' "$f" >&2
        tail -n 20 "$f" >&2
    done
}

# The first line a server sends: plain TCP, or implicit TLS through openssl s_client.
greeting() { # addr port plain|tls
    local line='' fd
    if [[ $3 == tls ]]; then
        coproc GREET { exec timeout 5 openssl s_client -connect "$(hostport "$1" "$2")" -quiet 2>/dev/null; }
        read -r -t 5 line <&"${GREET[0]}" || true
        kill "$GREET_PID" 2>/dev/null || true
        wait "$GREET_PID" 2>/dev/null || true
    elif exec {fd}<>"/dev/tcp/$1/$2"; then
        read -r -t 3 line <&"$fd" || true
        exec {fd}>&-
    fi 2>/dev/null
    printf '%s' "${line%$'\r'}"
}

# Ready means: the service greets as it should (a listening socket alone proves little:
# Postfix's master accepts connections even when smtpd cannot start).
service_ready() { # addr port
    local want mode=plain
    case $2 in
        25 | 587) want='220 ' ;;
        465) want='220 ' mode=tls ;;
        143) want='* OK' ;;
        993) want='* OK' mode=tls ;;
        110) want='+OK' ;;
        995) want='+OK' mode=tls ;;
        *) tcp_open "$1" "$2"; return ;;
    esac
    [[ $(greeting "$1" "$2" "$mode") == "$want"* ]]
}

wait_ready() { # variants...
    local deadline=$((SECONDS + WAIT_SECS)) pending v p sock
    local -A ready=()
    while :; do
        pending=()
        if [[ -z ${ready[dns]:-} ]]; then
            # The daemons' view of DNS: the lab zones, through the lab resolv.conf.
            if tcp_open "$DNS_ADDR" 53 &&
                [[ $(with_lab_dns getent ahostsv4 mail.ref.test 2>/dev/null | awk 'NR==1{print $1}') == "$REF_ADDR" ]]; then
                ready[dns]=1
            else
                pending+=("DNS $DNS_ADDR:53 (mail.ref.test through $LAB/resolv.conf)")
            fi
        fi
        if [[ -z ${ready[mta-sts]:-} ]]; then
            if mta_sts_ready; then ready[mta-sts]=1; else pending+=("MTA-STS https://$MTASTS_ADDR:443"); fi
        fi
        for v in "$@"; do
            for p in $(ports_of "$v"); do
                [[ -n ${ready[$v:$p]:-} ]] && continue
                if service_ready "$(addr_of "$v")" "$p"; then
                    ready[$v:$p]=1
                else
                    pending+=("$(hostport "$(addr_of "$v")" "$p")")
                fi
            done
            for sock in "$LAB/$v/dovecot-run/auth-postfix" "$LAB/$v/dovecot-run/lmtp-postfix"; do
                [[ -S $sock ]] || pending+=("$sock")
            done
            if [[ $v == ref && ! -S $LAB/ref/opendkim-run/opendkim.sock ]]; then
                pending+=("$LAB/ref/opendkim-run/opendkim.sock")
            fi
            if [[ $v == weak ]] && ! tcp_open "$LEGACY_ADDR" "$LEGACY_PORT"; then
                pending+=("$LEGACY_ADDR:$LEGACY_PORT (TLS 1.0 s_server)")
            fi
        done
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            printf 'lab: error: not ready after %ss: %s\n' "$WAIT_SECS" "${pending[*]}" >&2
            show_logs
            printf '\nlab: stop what did start with scripts/lab-down\n' >&2
            exit 1
        fi
        sleep 0.3
    done
}

summary() { # variants...
    local v
    cat <<EOF

mailcheck lab is up (lab dir $LAB)
  DNS       $DNS_ADDR:53 udp+tcp  authoritative for test. ref.test weak.test outside.test
            sprawl.test nomail.test dnsbl.test dane.test bogus.test stsmiss.test invalid.
            127.in-addr.arpa 100.0.127.in-addr.arpa 0.0.0.0.b.6.0.0.3.6.d.6.0.0.d.f.ip6.arpa
  DNSSEC    signed: test. (anchor) ref.test dane.test bogus.test (bogus DS); unsigned: the rest
            anchor $LAB/dns/trust-anchor.ds / .dnskey (mailcheck --trust-anchor)
  MTA-STS   https://mta-sts.{ref,dane,stsmiss}.test on $MTASTS_ADDR:443 (nginx, lab-CA certificates)
EOF
    for v in "$@"; do
        case $v in
            ref) cat <<EOF
  ref       $REF_ADDR  mail.ref.test  hardened
            smtp 25 (STARTTLS)  submission 587 (STARTTLS required, AUTH)  smtps 465 (AUTH)
            imap 143 (STARTTLS)  imaps 993  pop3 110 (STLS)  pop3s 995
            user test@ref.test  DKIM selector mail
EOF
                ;;
            weak) cat <<EOF
  weak      $WEAK_ADDR  mail.weak.test  deliberately weak
            smtp 25  submission 587 (AUTH in cleartext)  imap 143  pop3 110  (no 465/993/995)
            imap/pop3 certificate expired; user test@weak.test
  legacy    $LEGACY_ADDR:$LEGACY_PORT  implicit TLS 1.0 only (openssl s_server, weak variant)
EOF
                ;;
            ps) cat <<EOF
  ps        $PS_ADDR  mailps.ref.test  the reference behind postscreen on 25 (after-220 tests:
            a new client's RCPT gets 450 4.3.2 once, then passes for 60 s); own mailboxes
EOF
                ;;
            ref6) cat <<EOF
  ref6      [$V6_REF_ADDR]  mail6.ref.test (A $REF_ADDR too)  the reference over IPv6, in netns
            $V6_NETNS; same ports; reached from $V6_HOST_ADDR; dead6.ref.test AAAA $V6_DEAD_ADDR: nothing
EOF
                ;;
        esac
    done
    cat <<EOF
  password  $LAB/secrets/test-password (every test user)
  CA        $LAB/ca/ca.pem  (mailcheck --ca-file)
  checker   mailcheck --bind $CHECKER_ADDR --resolver $DNS_ADDR --relay-domain outside.test
  logs      $LAB/log/
EOF
    if [[ $IN_CONTAINER == 1 ]]; then
        echo "  stop      docker compose down (SIGTERM)"
    else
        echo "  stop      scripts/lab-down"
    fi
}

cmd_up() { # variants...
    need_root
    need_tools
    ensure_user
    local variants=("$@") v p
    ((${#variants[@]})) || variants=("${ALL_VARIANTS[@]}")
    for v in "${variants[@]}"; do ports_of "$v" >/dev/null; done
    # Refuse to start beside something that already holds a lab address (lab-up stops the
    # lab first, so this is a stranger or a lab whose pid files are gone).
    local endpoints=("$DNS_ADDR:53")
    for p in "${REF_PORTS[@]}"; do endpoints+=("$REF_ADDR:$p"); done
    for p in "${WEAK_PORTS[@]}"; do endpoints+=("$WEAK_ADDR:$p"); done
    for p in "${REF_PORTS[@]}"; do endpoints+=("$PS_ADDR:$p"); done
    endpoints+=("$LEGACY_ADDR:$LEGACY_PORT" "$MTASTS_ADDR:443")
    for p in "${endpoints[@]}"; do
        if tcp_open "${p%:*}" "${p#*:}"; then
            die "$p is already taken by a process this lab did not start (see ss -ltnp)"
        fi
    done
    render_all "${variants[@]}"
    prepare_resolver
    for v in "${variants[@]}"; do
        if [[ $v == ref6 ]]; then netns_up; fi
    done
    start_dns
    start_mta_sts
    # The variants start side by side (Postfix's start-up checks take a second or two each).
    local pids=() failed=0
    for v in "${variants[@]}"; do
        start_variant "$v" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    if ((failed)); then
        show_logs
        die "start-up failed (see above); stop what did start with scripts/lab-down"
    fi
    wait_ready "${variants[@]}"
    echo "${variants[*]}" >"$LAB/variants"
    summary "${variants[@]}"
}

# ---------------------------------------------------------------------------------------------
# Stopping: by pid file only, after checking that the pid is the daemon this lab started.
# ---------------------------------------------------------------------------------------------

# Prints the pid in $1 if it runs $2 and, when given, its command line contains $3 or its
# working directory is $4.
lab_pid() { # pidfile exe [cmdline-substring] [cwd]
    local pidfile=$1 exe=$2 want_arg=${3:-} want_cwd=${4:-} pid
    [[ -r $pidfile ]] || return 1
    pid="$(tr -dc '0-9' <"$pidfile")"
    [[ -n $pid && -d /proc/$pid ]] || return 1
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$exe" ]] || return 1
    if [[ -n $want_arg ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$want_arg" || return 1
    fi
    if [[ -n $want_cwd ]]; then
        [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$want_cwd" ]] || return 1
    fi
    echo "$pid"
}

# Sends SIGTERM to the lab daemon in the pid file (if it is one) and records its pid.
declare -A STOPPING=()
term_pid() { # name pidfile exe [cmdline-substring] [cwd]
    local name=$1 pidfile=$2 pid
    if ! pid="$(lab_pid "${@:2}")"; then
        # A dead pid is normal (Postfix leaves its pid file behind); a live stranger is not.
        pid=''
        [[ -r $pidfile ]] && pid="$(tr -dc '0-9' <"$pidfile")"
        if [[ -n $pid && -d /proc/$pid ]]; then
            warn "$name: pid $pid of $pidfile is not this lab's daemon: left alone"
        fi
        return 0
    fi
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    STOPPING[$pid]=$name
}

# Waits (10 s at most) for every daemon signalled by term_pid to exit; SIGKILL stragglers.
wait_stopped() {
    local pid deadline=$((SECONDS + 10))
    for pid in "${!STOPPING[@]}"; do
        while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.1; done
        if [[ -d /proc/$pid ]]; then
            warn "${STOPPING[$pid]} (pid $pid) did not stop in 10 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    STOPPING=()
}

wait_ports_closed() { # addr ports...
    local addr=$1 p deadline=$((SECONDS + 10))
    shift
    for p in "$@"; do
        while tcp_open "$addr" "$p"; do
            ((SECONDS < deadline)) || { warn "$addr:$p still answers after stop"; break; }
            sleep 0.1
        done
    done
}

cmd_down() {
    need_root
    local v
    # All at once: each daemon takes a second or two to wind down.
    for v in "${ALL_VARIANTS[@]}"; do
        term_pid "Postfix ($v)" "$LAB/$v/postfix-queue/pid/master.pid" "$POSTFIX_MASTER" "" "$LAB/$v/postfix-queue"
        if [[ $v == ref ]]; then
            term_pid "OpenDKIM ($v)" "$LAB/$v/opendkim-run/opendkim.pid" "$OPENDKIM" "$LAB/$v/opendkim/opendkim.conf"
        fi
        term_pid "Dovecot ($v)" "$LAB/$v/dovecot-run/master.pid" "$DOVECOT" "$LAB/$v/dovecot/dovecot.conf"
    done
    term_pid "NSD" "$LAB/dns/state/nsd.pid" "$NSD" "$LAB/dns/nsd.conf"
    term_pid "nginx (MTA-STS)" "$LAB/mta-sts/nginx.pid" "$NGINX" "$LAB/mta-sts/nginx.conf"
    term_pid "s_server (legacy TLS)" "$LAB/weak/legacy-tls.pid" "$OPENSSL" "$LEGACY_ADDR:$LEGACY_PORT"
    if ((${#STOPPING[@]})); then
        wait_stopped
        # Child processes (Dovecot logins, Postfix smtpd) may hold the listening sockets a moment.
        wait_ports_closed "$REF_ADDR" "${REF_PORTS[@]}"
        wait_ports_closed "$WEAK_ADDR" "${WEAK_PORTS[@]}"
        wait_ports_closed "$PS_ADDR" "${REF_PORTS[@]}"
        wait_ports_closed "$LEGACY_ADDR" "$LEGACY_PORT"
        wait_ports_closed "$DNS_ADDR" 53
        wait_ports_closed "$MTASTS_ADDR" 443
    fi
    netns_down
    say "stopped (lab dir $LAB kept)"
}

cmd_status() {
    local v pid running=0
    show() { # name pidfile exe arg cwd
        if pid="$(lab_pid "${@:2}")"; then
            printf '  %-18s running (pid %s)\n' "$1" "$pid"
            running=1
        else
            printf '  %-18s stopped\n' "$1"
        fi
    }
    echo "mailcheck lab ($LAB):"
    show "NSD" "$LAB/dns/state/nsd.pid" "$NSD" "$LAB/dns/nsd.conf"
    show "nginx (MTA-STS)" "$LAB/mta-sts/nginx.pid" "$NGINX" "$LAB/mta-sts/nginx.conf"
    for v in "${ALL_VARIANTS[@]}"; do
        show "Dovecot ($v)" "$LAB/$v/dovecot-run/master.pid" "$DOVECOT" "$LAB/$v/dovecot/dovecot.conf"
        if [[ $v == ref ]]; then
            show "OpenDKIM ($v)" "$LAB/$v/opendkim-run/opendkim.pid" "$OPENDKIM" "$LAB/$v/opendkim/opendkim.conf"
        fi
        show "Postfix ($v)" "$LAB/$v/postfix-queue/pid/master.pid" "$POSTFIX_MASTER" "" "$LAB/$v/postfix-queue"
    done
    show "s_server (legacy)" "$LAB/weak/legacy-tls.pid" "$OPENSSL" "$LEGACY_ADDR:$LEGACY_PORT"
    if [[ -e /run/netns/$V6_NETNS ]]; then
        printf '  %-18s present (%s <-> %s)\n' "netns $V6_NETNS" "$V6_HOST_ADDR" "$V6_REF_ADDR"
    else
        printf '  %-18s absent\n' "netns $V6_NETNS"
    fi
    ((running)) || return 3
}

# One pass over the endpoints (the container's health check; handy in CI too).
cmd_health() { # variants...
    local variants=("$@") v p bad=()
    # Default: the variants the last `up` started.
    if ((${#variants[@]} == 0)); then
        local started="${ALL_VARIANTS[*]}"
        if [[ -r $LAB/variants ]]; then started="$(<"$LAB/variants")"; fi
        read -r -a variants <<<"${MAILCHECK_LAB_VARIANTS:-$started}"
    fi
    tcp_open "$DNS_ADDR" 53 || bad+=("$DNS_ADDR:53")
    mta_sts_ready || bad+=("https://mta-sts.ref.test ($MTASTS_ADDR:443)")
    for v in "${variants[@]}"; do
        for p in $(ports_of "$v"); do
            service_ready "$(addr_of "$v")" "$p" || bad+=("$(hostport "$(addr_of "$v")" "$p")")
        done
        if [[ $v == weak ]]; then
            tcp_open "$LEGACY_ADDR" "$LEGACY_PORT" || bad+=("$LEGACY_ADDR:$LEGACY_PORT")
        fi
    done
    if ((${#bad[@]})); then
        echo "lab: unhealthy, not answering: ${bad[*]}" >&2
        return 1
    fi
    echo "lab: healthy (dns ${variants[*]})"
}

cmd_container() {
    IN_CONTAINER=1
    read -r -a variants <<<"${MAILCHECK_LAB_VARIANTS:-ref}"
    local tail_pid=
    trap 'if [[ -n $tail_pid ]]; then kill "$tail_pid" 2>/dev/null || true; fi; cmd_down; exit 0' TERM INT
    cmd_up "${variants[@]}"
    # Stay in the foreground: the logs are the container's output.
    tail -n +1 -F "$LAB"/log/*.log &
    tail_pid=$!
    wait "$tail_pid"
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    container) cmd_container ;;
    health) shift; cmd_health "$@" ;;
    ensure-user) need_root; ensure_user ;;
    render) # render into the lab dir without starting anything (for trying templates out)
        shift; need_root; need_tools; ensure_user
        if (($#)); then render_all "$@"; else render_all "${ALL_VARIANTS[@]}"; fi ;;
    *) echo "usage: $0 up [ref] [weak] | down | status | health [ref] [weak] | container | ensure-user" >&2; exit 2 ;;
esac
