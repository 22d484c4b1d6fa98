"""Public API of the ci-images rules.

The rule names and attributes follow rules_oci (oci_image, oci_load, oci_push) so that moving to
rules_oci later is mostly a load() change; the work is done by //tools/cmd/imagetool, built from
source. Every layer and image takes SOURCE_DATE_EPOCH from one build setting,
//tools/rules:source_date_epoch (--//tools/rules:source_date_epoch=SECONDS; default 0).
"""

load("//tools/rules/private:command.bzl", _imagetool_command = "imagetool_command")
load("//tools/rules/private:image.bzl", _oci_image = "oci_image")
load("//tools/rules/private:image_test.bzl", _image_test = "image_test")
load("//tools/rules/private:layer.bzl", _deb_layer = "deb_layer")
load("//tools/rules/private:load.bzl", _oci_load = "oci_load")
load("//tools/rules/private:providers.bzl", _OciImageInfo = "OciImageInfo")
load("//tools/rules/private:push.bzl", _oci_push = "oci_push")

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

def oci_push(
        name,
        image,
        repository = None,
        repository_file = None,
        remote_tags = None,
        versions = None,
        stamp = -1,
        **kwargs):
    """`bazel run :name` pushes `image` to `<prefix>/<repository>` under its tags.

    The prefix is `bazel run :name -- --repository=PREFIX`, else $DOCKER_REPO, else
    ghcr.io/citusdata. Unlike rules_oci, `repository` is a path under that prefix, so that one
    variable moves every image elsewhere. Credentials come from the docker config (docker login).
    `-- --dry-run` prints every tag it would write and sends nothing.

    Args:
      name: target name.
      image: an oci_image target.
      repository: the repository under the prefix, e.g. "exttester".
      repository_file: a file holding the repository, instead of `repository`.
      remote_tags: the tags: a list, or a label of a file with one tag a line. Leave it out to
        compute stamped tags from `versions`.
      versions: the versions the stamped tags are made of: `<version>-devYYYYmmddHHMM`
        (BUILD_TIMESTAMP, UTC), or with --define RELEASE=1 `<version>` and
        `<version>-v<short commit>`. Several versions are joined: 16.13-17.9-18.3.
      stamp: 1 always stamps, 0 never, -1 (default) follows --stamp (on by default in
        .bazelrc). Stamped tags need a stamped build.
      **kwargs: common attributes.
    """
    if remote_tags != None and type(remote_tags) != "list":
        kwargs["remote_tags_file"] = remote_tags
    elif remote_tags != None:
        kwargs["remote_tags"] = remote_tags
    _oci_push(
        name = name,
        image = image,
        repository = repository,
        repository_file = repository_file,
        versions = versions,
        stamp = stamp,
        **kwargs
    )

def oci_push_set(name, pushes, left_out = [], stamp = -1, **kwargs):
    """`bazel run :name` pushes the images of several oci_push targets in one process.

    One progress display and one summary table; a blob shared by several images is sent once,
    and tags are written only when every image of the set is complete, so a failed run leaves no
    tag pointing at a missing image. Each image keeps its own repository and tags.

    Args:
      name: target name.
      pushes: oci_push (or oci_push_set) targets.
      left_out: names of images of the set that are not pushed (their package sets are not
        locked), printed when the push runs.
      stamp: as for oci_push.
      **kwargs: common attributes.
    """
    _oci_push(name = name, pushes = pushes, left_out = left_out, stamp = stamp, **kwargs)

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
      diversions: dicts {path, divert_to, package}: dpkg-divert diversions to apply besides
        those the maintainer scripts make (those are found by running the scripts).
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

def image_test(name, image, script, inputs = {}, files = {}, env = {}, user = "", interpreter = ["/bin/sh"], **kwargs):
    """A test that runs `script` inside the root file system of `image`, without Docker.

    `imagetool run` unpacks the image into a tmpfs and runs the script there in new mount, PID,
    UTS, IPC and network namespaces (no network but loopback); it passes when the script exits 0.
    It needs root or unprivileged user namespaces: see the rule's documentation.

    Args:
      name: target name.
      image: an oci_image target.
      script: the script, run as `<interpreter> /ci-images-test/<basename> <args>`.
      inputs: label (one file) -> absolute path inside the image, bound read-only.
      files: absolute path inside the image -> content: small generated files (expected
        outputs), bound read-only.
      env: environment variables over the image's.
      user: user[:group] to run as; empty: the image's user.
      interpreter: the command inside the image that runs the script.
      **kwargs: common test attributes (size, tags, args, ...).
    """
    _image_test(
        name = name,
        image = image,
        script = script,
        inputs = inputs,
        files = files,
        env = env,
        user = user,
        interpreter = interpreter,
        **kwargs
    )
