#!/usr/bin/env bash
# Starts a throwaway OpenLDAP server (slapd) for the connector tests and prints, as shell `export`
# lines, its URL and the credentials to bind with:
#   eval "$(scripts/ldap.sh start <dir> <port>)"   installs slapd and ldap-utils from Debian's
#                                                   packages if needed
#   scripts/ldap.sh stop <dir>
# The directory holds suffix dc=example,dc=com with people (ou=people: alice, bob, carol), groups
# (ou=groups: groupOfNames vpn and wiki, posixGroup devs) and a read-only account
# cn=reader,dc=example,dc=com (password "reader-password") for permission tests. It lives in <dir>,
# runs as the current user on 127.0.0.1 only, and is gone after `stop`.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

suffix="dc=example,dc=com"
admin_dn="cn=admin,$suffix"

install_slapd() {
  echo "OpenLDAP is not installed; installing slapd and ldap-utils from Debian's packages" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  # slapd's postinst configures and may start a system-wide slapd on port 389; the tests never use
  # it, so it is stopped again (where nothing started it, stopping fails quietly).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq slapd ldap-utils >&2
  $sudo service slapd stop >/dev/null 2>&1 || true
}

write_config() {
  local dir=$1 password=$2
  cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
# Passwords may be read by nobody, and used to bind by anybody; everything else is readable by
# every bound account, and only the root DN writes.
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
database mdb
maxsize 268435456
suffix "$suffix"
rootdn "$admin_dn"
rootpw $password
directory $dir/data
# This server holds only test data: writes need not wait on the disk (as PostgreSQL's fsync=off).
dbnosync
index objectClass eq
index uid,mail,member,memberUid eq
CONF
}

write_entries() {
  local dir=$1
  {
    cat <<LDIF
dn: $suffix
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,$suffix
objectClass: organizationalUnit
ou: people

dn: ou=groups,$suffix
objectClass: organizationalUnit
ou: groups

dn: cn=reader,$suffix
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-password

LDIF
    for person in alice bob carol; do
      cat <<LDIF
dn: uid=$person,ou=people,$suffix
objectClass: inetOrgPerson
uid: $person
cn: ${person^}
sn: ${person^}
mail: $person@example.com

LDIF
    done
    # groupOfNames needs at least one member: the admin DN holds the place.
    for group in vpn wiki; do
      cat <<LDIF
dn: cn=$group,ou=groups,$suffix
objectClass: groupOfNames
cn: $group
member: $admin_dn

LDIF
    done
    cat <<LDIF
dn: cn=devs,ou=groups,$suffix
objectClass: posixGroup
cn: devs
gidNumber: 5000

LDIF
  } >"$dir/entries.ldif"
}

start() {
  local dir=$1 port=$2
  if [ ! -x /usr/sbin/slapd ] || ! command -v ldapwhoami >/dev/null; then
    install_slapd
  fi
  rm -rf "$dir"
  mkdir -p "$dir/data"
  local password
  password="admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  write_config "$dir" "$password"
  write_entries "$dir"
  /usr/sbin/slapadd -q -f "$dir/slapd.conf" -l "$dir/entries.ldif" >"$dir/slapadd.log" 2>&1 \
    || { cat "$dir/slapadd.log" >&2; exit 1; }
  # In the foreground (-d) so that its start-up errors reach its log instead of syslog; "none"
  # logs nothing else.
  /usr/sbin/slapd -d none -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/" >"$dir/slapd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/slapd.pid"
  local url="ldap://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    # Binding with this server's own password also proves no other server holds the port.
    if ldapwhoami -x -H "$url" -D "$admin_dn" -w "$password" >/dev/null 2>&1; then
      echo "export SESAME_TEST_LDAP_URL=$url"
      echo "export SESAME_TEST_LDAP_BIND_DN=$admin_dn"
      echo "export SESAME_TEST_LDAP_BIND_PASSWORD=$password"
      return 0
    fi
    sleep 0.1
  done
  echo "slapd did not start on $url; its log:" >&2
  cat "$dir/slapd.log" >&2
  stop "$dir"
  exit 1
}

stop() {
  stop_daemon "$1" slapd.pid
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 start <dir> <port> | stop <dir>" >&2; exit 2 ;;
esac
