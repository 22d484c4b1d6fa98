"""Macros that turn pg_versions.bzl and the lockfile's package sets into image targets.

For an image `img` and each pinned major version N:
  //images:img_N        the image (an OCI layout directory) and img_N.digest
  //images:img_N_layer  its package layer
  //images:img_N_load   `bazel run` loads it into Docker as ci-images/img:<pg version>
and the groups //images:img_all and //images:pgN. A set that is not in images/apt.lock.json
yet (for example pgdg sets on a machine that cannot reach apt.postgresql.org) gives targets that
are marked incompatible: `bazel build //images/...` skips them and says so.
"""

load("@debs//:sets.bzl", "INPUTS_SHA256", "SETS")
load("//:pg_versions.bzl", "PG_VERSIONS")
load("//tools/rules:defs.bzl", "deb_layer", "oci_image", "oci_load")

# Fixed ids: Debian's adduser would pick the first free system uid, which depends on the order
# of installation; images must not.
POSTGRES_USER = {"createhome": True, "gecos": "PostgreSQL administrator", "gid": 999, "group": "postgres", "home": "/var/lib/postgresql", "name": "postgres", "shell": "/bin/bash", "uid": 999}
CIRCLECI_USER = {"createhome": True, "gecos": "CI user", "gid": 1000, "group": "circleci", "home": "/home/circleci", "name": "circleci", "shell": "/bin/bash", "uid": 1000}
POSTGRES_RUN_DIR = {"group": "postgres", "mode": "2777", "owner": "postgres", "path": "var/run/postgresql"}

DEFAULT_ENV = {
    "LANG": "C.UTF-8",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}

def ci_image(
        name,
        set,
        pg_version = "",
        users = [POSTGRES_USER],
        dirs = [POSTGRES_RUN_DIR],
        env = {},
        user = "",
        workdir = "",
        cmd = ["/bin/bash"],
        repository = "ci-images",
        visibility = None):
    """One image built from one locked package set.

    Args:
      name: target name, e.g. "exttester_16".
      set: the lockfile set, usually the same as name.
      pg_version: the pinned Postgres version recorded in the labels and the load tag.
      users: users to create (dicts, see deb_layer).
      dirs: directories to create with modes (dicts, see deb_layer).
      env: environment, merged over DEFAULT_ENV.
      user: the user the image runs as.
      workdir: the working directory.
      cmd: the default command.
      repository: the repository part of the tag oci_load uses.
      visibility: visibility of the image target.
    """
    locked = set in SETS
    compat = [] if locked else ["@platforms//:incompatible"]
    deb_layer(
        name = name + "_layer",
        debs = ["@debs//:" + set] if locked else [],
        users = users,
        groups = [],
        dirs = dirs,
        target_compatible_with = compat,
    )
    labels = {
        "org.ci-images.lock-inputs-sha256": INPUTS_SHA256,
        "org.ci-images.package-set": set,
    }
    if pg_version:
        labels["org.ci-images.pg-version"] = pg_version
    oci_image(
        name = name,
        tars = [":" + name + "_layer"],
        env = DEFAULT_ENV | env,
        user = user,
        workdir = workdir,
        cmd = cmd,
        labels = labels,
        annotations = {"org.opencontainers.image.title": name},
        target_compatible_with = compat,
        visibility = visibility,
    )
    oci_load(
        name = name + "_load",
        image = ":" + name,
        repo_tags = ["%s/%s:%s" % (repository, name.rsplit("_", 1)[0] if pg_version else name, pg_version.replace("~", "") if pg_version else "latest")],
        target_compatible_with = compat,
    )

def pg_images(image, **kwargs):
    """ci_image for every version in PG_VERSIONS, plus the group //images:<image>_all.

    Args:
      image: image name; the lockfile sets are <image>_<major>.
      **kwargs: passed to ci_image.
    """
    names = []
    for major in sorted(PG_VERSIONS):
        name = "%s_%s" % (image, major)
        ci_image(name = name, set = name, pg_version = PG_VERSIONS[major], **kwargs)
        names.append(":" + name)
    native.filegroup(name = image + "_all", srcs = names)

def pg_groups(images):
    """The groups //images:pg<major>: every image of one Postgres major version.

    Args:
      images: the per-version image names.
    """
    for major in sorted(PG_VERSIONS):
        native.filegroup(name = "pg" + major, srcs = [":%s_%s" % (image, major) for image in images])
