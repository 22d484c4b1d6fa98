"""Public API of the ci-images rules.

The rule names and attributes follow rules_oci (oci_image, oci_load) so that moving to rules_oci
later is mostly a load() change; the work is done by //tools/cmd/imagetool, built from source.
Every layer and image takes SOURCE_DATE_EPOCH from one build setting,
//tools/rules:source_date_epoch (--//tools/rules:source_date_epoch=SECONDS; default 0).
"""

load("//tools/rules/private:command.bzl", _imagetool_command = "imagetool_command")
load("//tools/rules/private:image.bzl", _oci_image = "oci_image")
load("//tools/rules/private:layer.bzl", _deb_layer = "deb_layer")
load("//tools/rules/private:load.bzl", _oci_load = "oci_load")
load("//tools/rules/private:providers.bzl", _OciImageInfo = "OciImageInfo")

OciImageInfo = _OciImageInfo

# The layer file's extension for each compression.
_LAYER_EXTENSIONS = {
    "gzip": ".tar.gz",
    "none": ".tar",
    "zstd": ".tar.zst",
}

def oci_image(name, **kwargs):
    """An OCI image layout directory `name` and its digest file `name.digest`.

    Args:
      name: target name.
      **kwargs: base, tars, env, entrypoint, cmd, user, workdir, labels, annotations,
        exposed_ports, os, architecture and common attributes; see the rule's documentation.
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

def deb_layer(
        name,
        debs,
        installed = [],
        users = [],
        groups = [],
        dirs = [],
        diversions = [],
        alternatives = True,
        ca_certificates = True,
        compression = "gzip",
        dpkg_database = True,
        merged_usr = True,
        **kwargs):
    """One reproducible layer `name` + extension from .deb files, as if dpkg had installed them.

    The arguments besides the files become one JSON configuration, the layer.Config of
    tools/layer (the same names), which imagetool decodes as it is: a misspelt key fails the
    action.

    Args:
      name: target name; the output is name.tar.gz (name.tar.zst, name.tar).
      debs: .deb files, e.g. "@debs//:exttester_16".
      installed: .deb files already installed in the layers below: recorded in the dpkg
        database and used by the effects, their files not written.
      users: dicts {name, uid, gid, group, groups, gecos, home, shell, create_home}: users to
        add to /etc/passwd (and shadow); see layer.User.
      groups: dicts {name, gid, members}: groups to add to /etc/group (and gshadow).
      dirs: dicts {path, mode, owner, group} created after unpacking; mode is an int, e.g.
        0o2777.
      diversions: dicts {path, divert_to, package}: dpkg-divert diversions the maintainer
        scripts make in a way that cannot be read statically.
      alternatives: reproduce the update-alternatives links the postinst scripts register.
      ca_certificates: generate /etc/ssl/certs/ca-certificates.crt as update-ca-certificates
        does.
      compression: "gzip", "zstd" or "none" (deterministic settings).
      dpkg_database: write /var/lib/dpkg (status, info/*.list, md5sums, scripts).
      merged_usr: rewrite /bin, /sbin, /lib* into /usr and add the compatibility symlinks.
      **kwargs: common attributes.
    """
    if compression not in _LAYER_EXTENSIONS:
        fail("deb_layer %s: compression %r: want one of %s" % (name, compression, sorted(_LAYER_EXTENSIONS)))
    _deb_layer(
        name = name,
        debs = debs,
        installed = installed,
        out = name + _LAYER_EXTENSIONS[compression],
        config = json.encode({
            "alternatives": alternatives,
            "ca_certificates": ca_certificates,
            "compression": compression,
            "dirs": dirs,
            "diversions": diversions,
            "groups": groups,
            "merged_usr": merged_usr,
            "no_dpkg_database": not dpkg_database,
            "users": users,
        }),
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
