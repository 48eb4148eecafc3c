// Package cli is the shared library of the pvecfs, pveum and pvecm
// programs: Proxmox-style command lines, the client of a node's REST API,
// and Proxmox's output formats.
//
// Command lines follow PVE::JSONSchema::get_options (Getopt::Long):
// options take one or two dashes, "--name value" or "--name=value", may
// stand anywhere among the positional arguments, and may be abbreviated
// while unambiguous (so `pveum aclmod /vms -user joe@pve -role PVEVMAdmin`
// means --users and --roles). A boolean option takes the next argument as
// its value unless that looks like an option; alone it means 1. List
// options may be repeated and are joined with ",". The command's own
// options win over the global ones (--data-dir, --url, --user,
// --fingerprint, --output-format, --noborder, --noheader, --quiet), except
// that an exact global name wins over an ambiguous abbreviation.
//
// A Client reaches the local node through DATA_DIR/pvecfs.sock (every
// request acts as root@pam), or a node's HTTPS API with --url,
// authenticated by PVECFS_TOKEN (PVEAPIToken header) or --user /
// PVECFS_USER with PVECFS_PASSWORD (ticket cookie and CSRF token). The
// server certificate is pinned with --fingerprint; without it only a
// certificate valid for the system's roots is accepted, unless
// PVECFS_INSECURE=1.
//
// Output follows PVE::CLIFormatter: text is a bordered table (box drawing
// on UTF-8 locales, ASCII otherwise) with columns in schema order and rows
// sorted by the first column, objects as key/value tables; json is
// canonical and compact; json-pretty is Perl JSON's canonical pretty form
// (three-space indent, `"key" : value`); yaml is what CPAN::Meta::YAML
// dumps.
package cli
