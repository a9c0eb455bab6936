#!/usr/bin/env bash
# Installs Request Tracker 5 from Debian and builds a hermetic RT instance for
# the RT sink's tests: SQLite DB under $RT_DIR, queue "Andon", its ticket custom
# fields, a human test user and API tokens. Idempotent; the second run takes
# well under a second. Needs root (apt, and the instance runs as www-data).
#
#   test/rt/setup-rt.sh            install (if needed) and initialise (if needed)
#   test/rt/setup-rt.sh --check    exit 0 when both are done (with any settings), 1 otherwise; changes nothing
#   test/rt/setup-rt.sh --reinit   drop the instance's DB and tokens and build them again
#
# Then: test/rt/start-rt.sh [port]  (writes URL and tokens to $RT_ENV_FILE)
set -euo pipefail

RT_DIR=${RT_DIR:-/var/tmp/andon-rt}
RT_QUEUE=${RT_QUEUE:-Andon}
RT_LIBEXEC=/usr/share/request-tracker5/libexec
RT_USER=www-data
# RT verifies the auth token with bcrypt on every request: cost 12 (RT's default) is ~0.25 s of
# server CPU per request on 2 cores, cost 4 ~0.01 s. The test instance uses 4 so the suite stays
# fast and light; RT_BCRYPT_COST=12 gives production-like latency (see gateway/forward/rt/README.md).
RT_BCRYPT_COST=${RT_BCRYPT_COST:-4}
# Bump when the instance layout below changes: a different stamp rebuilds the instance.
STAMP="andon-rt-1 queue=$RT_QUEUE bcrypt=$RT_BCRYPT_COST"

packages_ok() {
  [ "$(dpkg-query -W -f='${Status}\n' request-tracker5 rt5-db-sqlite 2>/dev/null | grep -c '^install ok installed$')" = 2 ] &&
    [ -x "$RT_LIBEXEC/rt-server" ]
}
instance_built() {
  [ -s "$RT_DIR/.stamp" ] && [ -s "$RT_DIR/data/rt.db.pristine" ] && [ -s "$RT_DIR/tokens/gateway" ] && [ -s "$RT_DIR/tokens/operator" ]
}
instance_ok() { instance_built && [ "$(cat "$RT_DIR/.stamp")" = "$STAMP" ]; }
# RT_SITE_CONFIG and RT_SITE_CONFIG_DIR replace /etc/request-tracker5 entirely: the instance is hermetic.
as_rt() { setpriv --reuid=$RT_USER --regid=$RT_USER --init-groups env RT_SITE_CONFIG="$RT_DIR/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$RT_DIR/conf.d" "$@"; }

case "${1:-}" in
  --check) packages_ok && instance_built; exit ;;
  --reinit) rm -f "$RT_DIR/.stamp" ;;
  "") ;;
  *) echo "usage: $0 [--check|--reinit]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "setup-rt.sh: run as root (apt-get, setpriv)" >&2; exit 1; }

ms() { echo $(( $(date +%s%N) / 1000000 )); }
since() { local d=$(( $(ms) - $1 )); printf "%d.%03d" $((d / 1000)) $((d % 1000)); }
t0=$(ms)
if ! packages_ok; then
  echo "== installing request-tracker5 + rt5-db-sqlite (about a minute, ~290 MB)"
  # The package's own DB (dbconfig-common, /var/lib/dbconfig-common) is created but unused:
  # the test instance below has its own. Preseeding keeps the install non-interactive.
  debconf-set-selections <<'PRESEED'
request-tracker5 request-tracker5/rtname string rt.andon.test
request-tracker5 request-tracker5/organization string andon.test
request-tracker5 request-tracker5/correspondaddress string rt@andon.test
request-tracker5 request-tracker5/commentaddress string rt-comment@andon.test
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1:18080
request-tracker5 request-tracker5/webpath string /rt
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/initial-root-password password password
PRESEED
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends request-tracker5 rt5-db-sqlite >/dev/null
  echo "== packages installed in $(since "$t0") s"
fi

if instance_ok; then
  echo "== RT instance ready in $RT_DIR ($(since "$t0") s)"
  exit 0
fi

t1=$(ms)
echo "== building the RT instance in $RT_DIR"
# Only this script's own files go; a server still running on the old DB is stopped first.
"$(dirname "$0")/stop-rt.sh" >/dev/null 2>&1 || true
rm -rf "$RT_DIR/conf.d" "$RT_DIR/data" "$RT_DIR/tokens" "$RT_DIR/.stamp" "$RT_DIR/instance.env"
mkdir -p "$RT_DIR/conf.d" "$RT_DIR/data" "$RT_DIR/tokens" "$RT_DIR/mail"
cp /etc/request-tracker5/RT_SiteConfig.d/40-timezone.pm "$RT_DIR/conf.d/" 2>/dev/null || true
cat > "$RT_DIR/conf.d/50-andon.pm" <<CONF
# Hermetic RT for Andon's RT sink tests (written by test/rt/setup-rt.sh).
Set(\$rtname, 'rt.andon.test');
Set(\$Organization, 'andon.test');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$RT_DIR/data/rt.db');
Set(\$WebPath, '');
Set(\$WebDomain, '127.0.0.1');
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, 'warning');
Set(\$CanonicalizeRedirectURLs, 0);
# Never hand mail to an MTA: RT writes it as mbox files.
Set(\$MailCommand, 'mbox');
Set(\$LogDir, '$RT_DIR/mail');
Set(\$BcryptCost, $RT_BCRYPT_COST);
CONF
# start-rt.sh writes 60-port.pm (WebPort, WebBaseURL) for the port it starts on.
printf "Set(\$WebPort, 18090);\nSet(\$WebBaseURL, 'http://127.0.0.1:18090');\n" > "$RT_DIR/conf.d/60-port.pm"

cat > "$RT_DIR/initialdata.pl" <<DATA
# Queue, ticket custom fields and a human test user for the Andon RT sink.
@Queues = ({ Name => '$RT_QUEUE', Description => 'Tickets from Andon edge gateways', CorrespondAddress => '', CommentAddress => '' });
@CustomFields = map {
  { Name => \$_->[0], Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket', Queue => ['$RT_QUEUE'], Description => \$_->[1] }
} (
  ['AndonId', 'Andon ticket id (the idempotency key of the gateway)'],
  ['AndonKey', 'Andon ticket key: asset/fault'],
  ['AndonVersion', 'Andon ticket version last written by the gateway'],
  ['AndonState', 'Andon state last written by the gateway'],
  ['AndonEvents', 'Andon history events already mirrored into this ticket'],
);
# A person working in RT (the gateway itself acts as root).
@Users = ({ Name => 'operator', RealName => 'RT Operator', EmailAddress => "operator\\@andon.test", Privileged => 1, Password => 'operator-password' });
@ACL = ({ UserId => 'operator', Right => 'SuperUser' });
1;
DATA

cat > "$RT_DIR/rt-mktoken.pl" <<'PERL'
#!/usr/bin/perl
# usage: rt-mktoken.pl <user> <description>  -> prints the value for "Authorization: token <value>"
use strict; use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT; RT::LoadConfig(); RT::Init();
my ($name, $desc) = @ARGV;
my $u = RT::User->new(RT->SystemUser); $u->Load($name); die "no user $name\n" unless $u->id;
my $tok = RT::AuthToken->new(RT::CurrentUser->new($u));
my ($id, $msg, $auth) = $tok->Create(Owner => $u->id, Description => $desc);
die "token create failed: $msg\n" unless $id;
print "$auth\n";
PERL

echo '1;' > "$RT_DIR/RT_SiteConfig.pm"
echo password > "$RT_DIR/rootpw"
chown -R $RT_USER:$RT_USER "$RT_DIR"
chmod 700 "$RT_DIR/tokens"
quiet() { "$@" > "$RT_DIR/setup.log" 2>&1 || { cat "$RT_DIR/setup.log" >&2; exit 1; }; }
quiet as_rt /usr/sbin/rt-setup-database-5 --action init --skip-create --root-password-file "$RT_DIR/rootpw"
quiet as_rt /usr/sbin/rt-setup-database-5 --action insert --datafile "$RT_DIR/initialdata.pl"
# Tokens live in the DB, so they are made before the pristine copy and stay valid after a reset.
as_rt perl "$RT_DIR/rt-mktoken.pl" root andon-gateway 2>>"$RT_DIR/setup.log" > "$RT_DIR/tokens/gateway"
as_rt perl "$RT_DIR/rt-mktoken.pl" operator andon-tests 2>>"$RT_DIR/setup.log" > "$RT_DIR/tokens/operator"
cp "$RT_DIR/data/rt.db" "$RT_DIR/data/rt.db.pristine"
chown $RT_USER:$RT_USER "$RT_DIR/data/rt.db.pristine"
echo "RT_QUEUE=$RT_QUEUE" > "$RT_DIR/instance.env"
echo "$STAMP" > "$RT_DIR/.stamp"
echo "== RT instance built in $(since "$t1") s (queue $RT_QUEUE, DB $RT_DIR/data/rt.db)"
