"""Public API of the ci-images rules.

The rule names and attributes follow rules_oci (oci_image, oci_load, oci_push) so that moving to
rules_oci later is a load() change; the work is done by //tools/cmd/imagetool, built from source.
"""

load("//tools/rules/private:command.bzl", _imagetool_command = "imagetool_command")
load("//tools/rules/private:image.bzl", _oci_image = "oci_image")
load("//tools/rules/private:layer.bzl", _deb_layer = "deb_layer")
load("//tools/rules/private:load.bzl", _oci_load = "oci_load")
load("//tools/rules/private:providers.bzl", _OciImageInfo = "OciImageInfo")

OciImageInfo = _OciImageInfo

def oci_image(name, **kwargs):
    """An OCI image layout directory `name` and its digest file `name.digest`.

    Args:
      name: target name.
      **kwargs: base, tars, env, entrypoint, cmd, user, workdir, labels, annotations,
        exposed_ports, os, architecture, created; see the rule's documentation.
    """
    _oci_image(name = name, **kwargs)

def oci_load(name, image, repo_tags, **kwargs):
    """`bazel run :name` loads `image` into the local Docker engine as each of `repo_tags`.

    Args:
      name: target name.
      image: an oci_image target.
      repo_tags: tags, e.g. ["ci-images/exttester:16"].
      **kwargs: common attributes (tags, visibility, ...).
    """
    _oci_load(name = name, image = image, repo_tags = repo_tags, **kwargs)

def deb_layer(name, debs, users = [], groups = [], dirs = [], **kwargs):
    """One reproducible layer from .deb files, as if dpkg had installed them.

    Args:
      name: target name; the output is name.tar.gz.
      debs: .deb files, e.g. "@debs//:exttester_16".
      users: dicts {name, uid, gid, group, home, shell, createhome} to add to /etc/passwd.
      groups: dicts {name, gid, members} to add to /etc/group.
      dirs: dicts {path, mode (octal string), owner, group} created after unpacking.
      **kwargs: alternatives, ca_certificates, compression, dpkg_database, merged_usr,
        source_date_epoch and common attributes.
    """
    _deb_layer(
        name = name,
        debs = debs,
        users = [json.encode(u) for u in users],
        groups = [json.encode(g) for g in groups],
        dirs = [json.encode(d) for d in dirs],
        **kwargs
    )

def imagetool_command(name, arguments, **kwargs):
    """`bazel run :name -- args` runs `imagetool <arguments> <args>` in the workspace root.

    Args:
      name: target name.
      arguments: the subcommand and its fixed flags, e.g. ["lock"].
      **kwargs: common attributes.
    """
    _imagetool_command(name = name, arguments = arguments, **kwargs)
