#!/usr/bin/python3
"""Replay the proxmoxer 1.2.0 flow of shared/reference/api-clients.md §2
(wire/wire-proxmoxer.log: user bob@pve, token auto, form bodies) against a
running pvecfs node, asserting what the reference says the server answers.

Run by tests/compat/scripts_test.go (TestProxmoxer) with Debian's
/usr/bin/python3 and python3-proxmoxer. Input, from the environment:

  COMPAT_HOST, COMPAT_PORT     the node's HTTPS API address
  COMPAT_ROOT_PASSWORD         root@pam's password
  COMPAT_NODE                  the node name
  COMPAT_CLUSTER               the cluster name (the node is in a cluster)
  COMPAT_FINGERPRINT           optional: the expected certificate SHA-256
                               fingerprint (AA:BB:...)

Output: one line per step, "PASS <step>" or "FAIL <step>: <why>", then
"SUMMARY passed=N failed=N". Exit status 1 if any step failed. Every step
runs; a step whose prerequisite failed fails saying so.
"""

import hashlib
import os
import re
import ssl
import sys
import traceback
import warnings

try:
    import proxmoxer
    import requests
    from proxmoxer import ProxmoxAPI
    from proxmoxer.core import ResourceException
    from proxmoxer.backends.https import AuthenticationError
except ImportError as exc:  # the Go test checks this first and skips
    print("SKIP proxmoxer not importable: %s" % exc)
    sys.exit(3)

warnings.filterwarnings("ignore", message="Unverified HTTPS request")
try:
    import urllib3

    urllib3.disable_warnings()
except Exception:  # pragma: no cover - cosmetic only
    pass

HOST = os.environ["COMPAT_HOST"]
PORT = int(os.environ["COMPAT_PORT"])
ROOT_PW = os.environ["COMPAT_ROOT_PASSWORD"]
NODE = os.environ["COMPAT_NODE"]
CLUSTER = os.environ["COMPAT_CLUSTER"]
FINGERPRINT = os.environ.get("COMPAT_FINGERPRINT", "").strip().upper()

GROUP = "py-devs"
USER = "bob@pve"
PASSWORD = "bob-pass-1"
TOKEN = "auto"
FULL_TOKEN = USER + "!" + TOKEN
BAD_SECRET = "00000000-0000-0000-0000-000000000000"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

results = {}  # step -> passed
state = {}


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def is_int(v):
    # PVE booleans and numbers are JSON numbers, never true/false or strings.
    return type(v) is int


def step(name, needs=()):
    def wrap(fn):
        missing = [n for n in needs if not results.get(n)]
        if missing:
            results[name] = False
            print("FAIL %s: not run: prerequisite step(s) %s failed" % (name, ", ".join(missing)), flush=True)
            return fn
        try:
            fn()
        except Failure as exc:
            results[name] = False
            print("FAIL %s: %s" % (name, one_line(str(exc))), flush=True)
        except ResourceException as exc:
            results[name] = False
            print("FAIL %s: unexpected HTTP error: status %s, reason %r (%s)"
                  % (name, exc.status_code, exc.content, one_line(str(exc))), flush=True)
        except Exception as exc:  # noqa: BLE001 - report anything the client raised
            results[name] = False
            tb = traceback.format_exc(limit=3)
            print("FAIL %s: %s: %s | %s" % (name, type(exc).__name__, one_line(str(exc)), one_line(tb)), flush=True)
        else:
            results[name] = True
            print("PASS %s" % name, flush=True)
        return fn

    return wrap


def one_line(s):
    return " ".join(str(s).split())[:1500]


def expect_error(call, status, what):
    """Run call, which must raise ResourceException with status; return it."""
    try:
        got = call()
    except ResourceException as exc:
        check(exc.status_code == status,
              "%s: status %s (reason %r), want %s" % (what, exc.status_code, exc.content, status))
        return exc
    raise Failure("%s succeeded (%r), want HTTP %s" % (what, got, status))


def api_login(user, password):
    return ProxmoxAPI(HOST, port=PORT, user=user, password=password, verify_ssl=False)


def api_token(user, name, value):
    return ProxmoxAPI(HOST, port=PORT, user=user, token_name=name, token_value=value, verify_ssl=False)


@step("00-certificate")
def _():
    if not FINGERPRINT:
        return
    pem = ssl.get_server_certificate((HOST, PORT))
    der = ssl.PEM_cert_to_DER_cert(pem)
    got = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
    check(got == FINGERPRINT, "certificate fingerprint %s, want %s (pvecfs fingerprint)" % (got, FINGERPRINT))


@step("01-login-version")
def _():
    api = api_login("root@pam", ROOT_PW)
    ticket, csrf = api.get_tokens()
    check(isinstance(ticket, str) and ticket.startswith("PVE:root@pam:"), "ticket %r, want PVE:root@pam:..." % ticket)
    check(isinstance(csrf, str) and csrf, "CSRFPreventionToken %r, want a string" % csrf)
    v = api.version.get()
    check(isinstance(v, dict), "version = %r" % v)
    for k in ("version", "release"):
        check(isinstance(v.get(k), str) and v.get(k), "version.%s = %r, want a non-empty string" % (k, v.get(k)))
    state["api"] = api


@step("01b-wrong-password")
def _():
    # proxmoxer reads json()["data"] of the login answer whatever the status:
    # a failed login must be JSON {"data": null} (401), which proxmoxer turns
    # into AuthenticationError (§7.12), and answer within its 5 s timeout.
    try:
        api_login("root@pam", ROOT_PW + "-wrong")
    except AuthenticationError:
        return
    except requests.exceptions.Timeout as exc:
        raise Failure("login with a wrong password timed out (proxmoxer waits 5 s): %s" % exc)
    except ValueError as exc:
        raise Failure("login with a wrong password: answer is not JSON (%s); PVE answers {\"data\":null}" % exc)
    except KeyError as exc:
        raise Failure("login with a wrong password: data present but no %s; want data null" % exc)
    raise Failure("login with a wrong password succeeded")


@step("01c-ticket-renewal", needs=["01-login-version"])
def _():
    # proxmoxer renews after 3600 s by POSTing the ticket as the password (§7.5).
    api = state["api"]
    auth = api._backend.auth
    auth._getNewTokens()  # password=None: use the current ticket
    ticket, csrf = api.get_tokens()
    check(ticket.startswith("PVE:root@pam:") and csrf, "renewed ticket %r / csrf %r" % (ticket, csrf))
    check(api.version.get().get("version"), "GET /version after renewal")


@step("02-groups", needs=["01-login-version"])
def _():
    api = state["api"]
    check(api.access.groups.post(groupid=GROUP, comment="py group") is None, "POST /access/groups data not null")
    groups = api.access.groups.get()
    check(any(g.get("groupid") == GROUP for g in groups), "GET /access/groups = %r, want %s" % (groups, GROUP))


@step("03-users", needs=["02-groups"])
def _():
    api = state["api"]
    api.access.users.post(userid=USER, password=PASSWORD, email="bob@example.com", groups=GROUP, enable=1)
    users = api.access.users.get()
    mine = [u for u in users if u.get("userid") == USER]
    check(mine, "GET /access/users = %r, want %s" % (users, USER))
    check(mine[0].get("enable") == 1 and is_int(mine[0].get("enable")), "list enable = %r, want integer 1" % mine[0].get("enable"))
    u = api.access.users(USER).get()
    check(u.get("groups") == [GROUP], "GET /access/users/%s groups = %r, want [%r]" % (USER, u.get("groups"), GROUP))
    check(u.get("enable") == 1 and is_int(u.get("enable")), "enable = %r, want integer 1" % u.get("enable"))
    check(u.get("email") == "bob@example.com", "email = %r" % u.get("email"))
    # Ansible's proxmox_user_info reads the full list: groups as a comma string (§7.14).
    full = [x for x in api.access.users.get(full=1) if x.get("userid") == USER]
    check(full, "GET /access/users?full=1 lacks %s" % USER)
    check(full[0].get("groups") == GROUP, "full=1 groups = %r, want the string %r" % (full[0].get("groups"), GROUP))
    if "tokens" in full[0]:
        check(isinstance(full[0]["tokens"], list), "full=1 tokens = %r, want a list" % full[0]["tokens"])


@step("04-token", needs=["03-users"])
def _():
    api = state["api"]
    r = api.access.users(USER).token(TOKEN).post(privsep=0, comment="py token")
    check(isinstance(r, dict), "token POST answered %r" % r)
    check(r.get("full-tokenid") == FULL_TOKEN, "full-tokenid = %r, want %r" % (r.get("full-tokenid"), FULL_TOKEN))
    value = r.get("value")
    check(isinstance(value, str) and len(value) == 36 and UUID_RE.match(value),
          "value = %r, want a 36-character lowercase UUID" % value)
    info = r.get("info")
    check(isinstance(info, dict) and info.get("privsep") == 0 and is_int(info.get("privsep")),
          "info = %r, want privsep integer 0" % info)
    state["secret"] = value
    u = api.access.users(USER).get()
    toks = u.get("tokens")
    check(isinstance(toks, dict) and TOKEN in toks, "GET /access/users/%s tokens = %r, want an object keyed %r" % (USER, toks, TOKEN))
    check(toks[TOKEN].get("comment") == "py token", "tokens.%s.comment = %r" % (TOKEN, toks[TOKEN].get("comment")))
    full = [x for x in api.access.users.get(full=1) if x.get("userid") == USER]
    check(full and isinstance(full[0].get("tokens"), list)
          and any(t.get("tokenid") == TOKEN for t in full[0]["tokens"]),
          "GET /access/users?full=1 tokens of %s = %r, want a list with tokenid %r" % (USER, full and full[0].get("tokens"), TOKEN))


@step("05-acl", needs=["03-users"])
def _():
    api = state["api"]
    api.access.acl.put(path="/", roles="PVEAuditor", users=USER, propagate=1)
    acl = api.access.acl.get()
    want = {"path": "/", "type": "user", "ugid": USER, "roleid": "PVEAuditor", "propagate": 1}
    check(any(all(e.get(k) == v for k, v in want.items()) and is_int(e.get("propagate")) for e in acl),
          "GET /access/acl = %r, want an entry %r" % (acl, want))


@step("06-roles", needs=["01-login-version"])
def _():
    api = state["api"]
    roles = api.access.roles.get()
    pa = [r for r in roles if r.get("roleid") == "PVEAuditor"]
    check(pa, "GET /access/roles lacks PVEAuditor")
    check(pa[0].get("special") == 1 and is_int(pa[0].get("special")), "PVEAuditor special = %r, want 1" % pa[0].get("special"))
    privs = api.access.roles("PVEAuditor").get()
    check(privs.get("Sys.Audit") == 1, "GET /access/roles/PVEAuditor = %r, want Sys.Audit 1" % privs)


@step("07-domains", needs=["01-login-version"])
def _():
    api = state["api"]
    doms = api.access.domains.get()
    for realm in ("pam", "pve"):
        check(any(d.get("realm") == realm and d.get("type") == realm for d in doms),
              "GET /access/domains = %r, want realm %s" % (doms, realm))


@step("08-token-login", needs=["04-token", "05-acl"])
def _():
    tapi = api_token(USER, TOKEN, state["secret"])
    perms = tapi.access.permissions.get()
    check(isinstance(perms, dict) and isinstance(perms.get("/"), dict) and perms["/"].get("Sys.Audit") == 1,
          "token GET /access/permissions = %r, want Sys.Audit 1 on /" % perms)


@step("08b-wrong-token-secret", needs=["04-token"])
def _():
    bad = api_token(USER, TOKEN, BAD_SECRET)
    expect_error(lambda: bad.version.get(), 401, "GET /version with a wrong token secret")


@step("08c-token-refused-for-password", needs=["04-token"])
def _():
    # PUT /access/password is allowtoken=0: a token gets 403 "Permission check
    # failed (URI '...' not available with API token, need proper ticket.)"
    # (access-control.md §7.0, api-clients.md §7.6).
    tapi = api_token(USER, TOKEN, state["secret"])
    exc = expect_error(lambda: tapi.access.password.put(userid=USER, password="bob-pass-9"), 403,
                       "PUT /access/password with an API token")
    check("API token" in str(exc.content), "reason %r, want PVE's '... not available with API token, need proper ticket.'" % exc.content)


@step("09-error-paths", needs=["03-users"])
def _():
    api = state["api"]
    exc = expect_error(lambda: api.access.users("nobody@pve").get(), 500, "GET /access/users/nobody@pve")
    check("nobody@pve" in str(exc.content),
          "GET /access/users/nobody@pve reason %r, want it to name nobody@pve" % exc.content)
    exc = expect_error(lambda: api.access.users.post(userid=USER, password=PASSWORD), 500, "duplicate POST /access/users")
    check("already exists" in str(exc.content), "duplicate user reason %r, want '... already exists'" % exc.content)
    exc = expect_error(lambda: api.access.users.post(userid="norealm"), 400, "POST /access/users userid=norealm")
    check(exc.content == "Parameter verification failed.",
          "POST /access/users userid=norealm reason %r, want 'Parameter verification failed.'" % exc.content)


@step("09b-form-boolean-True", needs=["01-login-version"])
def _():
    # Python's True goes out as the form value "True", which PVE refuses:
    # booleans in forms are 0/1 only (api-clients.md §4.2, §5).
    api = state["api"]
    exc = expect_error(lambda: api.access.users.post(userid="pybool@pve", enable=True), 400,
                       "POST /access/users enable=True (form)")
    check(exc.content == "Parameter verification failed.",
          "reason %r, want 'Parameter verification failed.'" % exc.content)
    expect_error(lambda: api.access.users("pybool@pve").get(), 500, "GET /access/users/pybool@pve after the refused create")


@step("10-cluster", needs=["01-login-version"])
def _():
    api = state["api"]
    status = api.cluster.status.get()
    check(isinstance(status, list), "GET /cluster/status = %r" % status)
    cl = [e for e in status if e.get("type") == "cluster"]
    check(cl, "GET /cluster/status = %r, want an entry of type cluster" % status)
    c = cl[0]
    check(c.get("name") == CLUSTER and c.get("id") == "cluster", "cluster entry %r, want id cluster, name %s" % (c, CLUSTER))
    check(c.get("quorate") == 1 and is_int(c.get("quorate")), "cluster entry quorate = %r, want integer 1" % c.get("quorate"))
    check(is_int(c.get("version")) and is_int(c.get("nodes")), "cluster entry version/nodes must be integers: %r" % c)
    nodes = [e for e in status if e.get("type") == "node" and e.get("name") == NODE]
    check(nodes, "GET /cluster/status = %r, want a node entry %s" % (status, NODE))
    n = nodes[0]
    for k in ("online", "local"):
        check(n.get(k) == 1 and is_int(n.get(k)), "node entry %s = %r, want integer 1" % (k, n.get(k)))
    check(n.get("id") == "node/" + NODE, "node entry id = %r" % n.get("id"))
    cfg = api.cluster.config.nodes.get()
    check(isinstance(cfg, list) and any(e.get("node") == NODE for e in cfg),
          "GET /cluster/config/nodes = %r, want an entry with node %s" % (cfg, NODE))


@step("11-cleanup", needs=["05-acl", "04-token"])
def _():
    api = state["api"]
    api.access.acl.put(path="/", roles="PVEAuditor", users=USER, delete=1)
    acl = api.access.acl.get()
    check(not any(e.get("ugid") == USER for e in acl), "GET /access/acl after delete = %r, still names %s" % (acl, USER))
    api.access.users(USER).token(TOKEN).delete()
    gone = api_token(USER, TOKEN, state["secret"])
    expect_error(lambda: gone.version.get(), 401, "GET /version with the deleted token")
    api.access.users(USER).delete()
    expect_error(lambda: api.access.users(USER).get(), 500, "GET /access/users/%s after delete" % USER)
    api.access.groups(GROUP).delete()
    groups = api.access.groups.get()
    check(not any(g.get("groupid") == GROUP for g in groups), "group %s still listed after delete" % GROUP)


passed = sum(1 for v in results.values() if v)
failed = sum(1 for v in results.values() if not v)
print("SUMMARY passed=%d failed=%d proxmoxer=%s requests=%s"
      % (passed, failed, proxmoxer.__version__, requests.__version__), flush=True)
sys.exit(1 if failed else 0)
