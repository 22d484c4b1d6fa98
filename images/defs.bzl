"""Macros that turn pg_versions.bzl and the lockfile's package sets into image targets.

Every image is FROM //images:base, the Debian base system. For an image `img` and each pinned
major version N:
  //images:img_N                  the image (an OCI layout directory) and img_N.digest
  //images:img_N_{debian,pgdg}_layer  its package layers (IMAGE_LAYERS)
  //images:img_N_load             `bazel run` loads it into Docker as ci-images/img:<pg version>
  //images:img_N_push             `bazel run` pushes it as <prefix>/img:<tags> (see oci_push)
and the groups //images:img_all and //images:pgN, with their pushes //images:img_all_push and
//images:pgN_push, and //images:push_all. A set that is not in images/apt.lock.json yet (for
example pgdg sets on a machine that cannot reach apt.postgresql.org) gives targets that are
marked incompatible: `bazel build //images/...` skips them and says so, and the push groups
leave them out (a push names them, in one line).
"""

load("@debs//:sets.bzl", "INPUTS_SHA256", "PACKAGES", "SETS")
load("//:pg_versions.bzl", "PG_VERSIONS")
load("//tools/rules:defs.bzl", "deb_layer", "image_test", "oci_image", "oci_load", "oci_push", "oci_push_set")

# Fixed ids: Debian's adduser would pick the first free system uid, which depends on the order
# of installation; images must not.
POSTGRES_USER = {"create_home": True, "gecos": "PostgreSQL administrator", "gid": 999, "group": "postgres", "groups": ["ssl-cert"], "home": "/var/lib/postgresql", "name": "postgres", "shell": "/bin/bash", "uid": 999}

# ssl-cert's postinst adds this group; postgresql-common's adds postgres to it.
SSL_CERT_GROUP = {"gid": 998, "name": "ssl-cert"}
CIRCLECI_USER = {"create_home": True, "gecos": "CI user", "gid": 1000, "group": "circleci", "home": "/home/circleci", "name": "circleci", "shell": "/bin/bash", "uid": 1000}
POSTGRES_RUN_DIR = {"group": "postgres", "mode": 0o2777, "owner": "postgres", "path": "var/run/postgresql"}

# Directories that differ from what the maintainer scripts make (postgresql-common's postinst
# makes /var/log/postgresql, /etc/postgresql and /var/run/postgresql, the last one 2775):
# the socket directory is world-writable, so that tests running as any user can start servers.
POSTGRES_DIRS = [POSTGRES_RUN_DIR]

# The layers of an image above the base image, slowest-changing first, and the sources
# (images/sources.json) whose packages each one holds. A locked package from a source that is not
# listed fails the build.
IMAGE_LAYERS = [
    struct(name = "debian", sources = ["debian", "debian-updates", "debian-security"]),
    struct(name = "pgdg", sources = ["pgdg", "pgdg-archive"]),
]

DEFAULT_ENV = {
    "LANG": "C.UTF-8",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}

def _labels(keys):
    return [PACKAGES[k]["label"] for k in keys]

def _has(keys, name):
    """Whether the package called name is among keys (the CA bundle needs ca-certificates)."""
    return len([k for k in keys if PACKAGES[k]["name"] == name]) > 0

def _split(image, keys):
    """The packages keys grouped by IMAGE_LAYERS: a list of (layer name, keys), empty ones left out."""
    layer_of = {source: layer.name for layer in IMAGE_LAYERS for source in layer.sources}
    for k in keys:
        if PACKAGES[k]["repo"] not in layer_of:
            fail("%s: package %s comes from source %r, which no entry of IMAGE_LAYERS in images/defs.bzl lists" % (image, k, PACKAGES[k]["repo"]))
    parts = [(layer.name, [k for k in keys if layer_of[PACKAGES[k]["repo"]] == layer.name]) for layer in IMAGE_LAYERS]
    return [p for p in parts if p[1]]

def debian_base(name = "base", package_set = "base", version = "bookworm", visibility = None):
    """The Debian base system (what debootstrap --variant=minbase installs), FROM scratch.

    Every other image starts FROM it, so its layer is shared and never rebuilt when an image's
    own packages change.

    Args:
      name: target name.
      package_set: the lockfile set holding the base system.
      version: the version in its tags: <prefix>/<name>:<version>-dev... when pushed,
        ci-images/<name>:<version> when loaded (<name>_load).
      visibility: visibility of the image target.
    """
    locked = package_set in SETS
    compat = [] if locked else ["@platforms//:incompatible"]
    deb_layer(
        name = name + "_layer",
        debs = _labels(SETS[package_set]) if locked else [],
        ca_certificates = locked and _has(SETS[package_set], "ca-certificates"),
        target_compatible_with = compat,
    )
    oci_image(
        name = name,
        tars = [":" + name + "_layer"],
        env = DEFAULT_ENV,
        cmd = ["/bin/bash"],
        labels = {
            "org.ci-images.lock-inputs-sha256": INPUTS_SHA256,
            "org.ci-images.package-set": package_set,
        },
        target_compatible_with = compat,
        visibility = visibility,
    )
    oci_load(
        name = name + "_load",
        image = ":" + name,
        repo_tags = ["ci-images/%s:%s" % (name, version)],
        target_compatible_with = compat,
    )
    oci_push(
        name = name + "_push",
        image = ":" + name,
        repository = name,
        versions = [version],
        target_compatible_with = compat,
    )

def ci_image(
        name,
        package_set,
        pg_version = "",
        base = ":base",
        base_set = "base",
        users = [POSTGRES_USER],
        groups = [SSL_CERT_GROUP],
        dirs = POSTGRES_DIRS,
        env = {},
        user = "",
        workdir = "",
        cmd = ["/bin/bash"],
        repository = "ci-images",
        tag_versions = [],
        visibility = None):
    """One image built from one locked package set, FROM the Debian base image.

    Layers, slowest-changing first: the base image's, then one per IMAGE_LAYERS entry (the
    set's Debian packages, then its pgdg packages: the pinned Postgres), each recording the
    packages below it in the dpkg database, so `dpkg -l` tells the truth at every level.

    Args:
      name: target name, e.g. "exttester_16".
      package_set: the lockfile set, usually the same as name.
      pg_version: the pinned Postgres version recorded in the labels and the load tag.
      base: the base image target.
      base_set: the lockfile set of the base image; it must be contained in package_set.
      users: users to create (dicts, see deb_layer).
      groups: groups to create (dicts, see deb_layer).
      dirs: directories to create with modes (dicts, see deb_layer).
      env: environment, merged over DEFAULT_ENV.
      user: the user the image runs as.
      workdir: the working directory.
      cmd: the default command.
      repository: the repository part of the tag oci_load uses.
      tag_versions: the versions in its pushed tags, joined (pgupgradetester: every pinned
        version, 16.13-17.9-18.3); default [pg_version].
      visibility: visibility of the image target.
    """
    tag_versions = tag_versions or ([pg_version] if pg_version else [])
    if not tag_versions:
        fail("%s: no version to tag it with: give pg_version or tag_versions" % name)

    # The image's repository: exttester_16 is exttester:16.13, debian15 is debian15:15.
    image_repository = name.rsplit("_", 1)[0] if pg_version else name
    locked = package_set in SETS and base_set in SETS
    compat = [] if locked else ["@platforms//:incompatible"]
    layers = []
    if locked:
        below = {k: True for k in SETS[base_set]}
        missing = [k for k in below if k not in SETS[package_set]]
        if missing:
            fail("%s: set %s lacks %d packages of the base set %s (e.g. %s): re-lock with tools/bazel run //images:lock" % (name, package_set, len(missing), base_set, missing[0]))
        parts = _split(name, [k for k in SETS[package_set] if k not in below])
        for i, (suffix, keys) in enumerate(parts):
            last = i == len(parts) - 1
            deb_layer(
                name = "%s_%s_layer" % (name, suffix),
                debs = _labels(keys),
                installed = _labels(sorted(below)),
                ca_certificates = _has(below.keys() + keys, "ca-certificates"),
                users = users if last else [],
                groups = groups if last else [],
                dirs = dirs if last else [],
            )
            layers.append(":%s_%s_layer" % (name, suffix))
            for k in keys:
                below[k] = True
    labels = {
        "org.ci-images.lock-inputs-sha256": INPUTS_SHA256,
        "org.ci-images.package-set": package_set,
    }
    if pg_version:
        labels["org.ci-images.pg-version"] = pg_version
    oci_image(
        name = name,
        base = base,
        tars = layers,
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
        # "~" is not allowed in a tag: "18~beta3" is tagged 18beta3, the rule of tools/tags
        # (tags.Version), which computes the pushed tags.
        repo_tags = ["%s/%s:%s" % (repository, image_repository, pg_version.replace("~", "") if pg_version else "latest")],
        target_compatible_with = compat,
    )
    oci_push(
        name = name + "_push",
        image = ":" + name,
        repository = image_repository,
        versions = tag_versions,
        target_compatible_with = compat,
    )

def pg_images(name, **kwargs):
    """ci_image for every version in PG_VERSIONS, plus the group //images:<name>_all.

    Args:
      name: image name; the targets and lockfile sets are <name>_<major>.
      **kwargs: passed to ci_image.
    """
    names = []
    for major in sorted(PG_VERSIONS):
        image = "%s_%s" % (name, major)
        ci_image(name = image, package_set = image, pg_version = PG_VERSIONS[major], **kwargs)
        names.append(":" + image)
    native.filegroup(name = name + "_all", srcs = names)
    push_set(name = name + "_all_push", images = [n[1:] for n in names])

def pg_groups(name, images):
    """The groups //images:<name><major>: every image of one Postgres major version.

    Args:
      name: prefix of the group names, e.g. "pg" for //images:pg16.
      images: the per-version image names.
    """
    for major in sorted(PG_VERSIONS):
        native.filegroup(name = name + major, srcs = [":%s_%s" % (image, major) for image in images])
        push_set(name = name + major + "_push", images = ["%s_%s" % (image, major) for image in images])

def _incompatible(target):
    """Whether the target (declared earlier in this package) is marked incompatible."""
    compat = native.existing_rule(target)["target_compatible_with"]
    return len([c for c in compat if str(c).endswith("//:incompatible")]) > 0

def push_set(name, images):
    """`bazel run :<name>` pushes the given images in one process (their <image>_push targets).

    Images whose package sets are not locked are left out, and named in one line when the push
    runs; so is a set none of whose images can be built: it is marked incompatible.

    Args:
      name: target name, e.g. "push_all".
      images: image target names declared earlier in the package, e.g. ["base", "exttester_16"].
    """
    left_out = [i for i in images if _incompatible(i + "_push")]
    pushes = [":%s_push" % i for i in images if i not in left_out]
    oci_push_set(
        name = name,
        pushes = pushes,
        left_out = left_out,
        target_compatible_with = [] if pushes else ["@platforms//:incompatible"],
    )

def push_all(name, per_version_images, images):
    """//images:<name>: every image of every pinned version, pushed in one process.

    Args:
      name: target name.
      per_version_images: images with one target per pinned version (<image>_<major>).
      images: the other images, pushed first, e.g. ["base", "pgupgradetester"].
    """
    push_set(
        name = name,
        images = images + ["%s_%s" % (i, m) for i in per_version_images for m in sorted(PG_VERSIONS)],
    )

# ---- Image tests (image_test, //tools/rules:defs.bzl; the runner is tools/runner) ----------------
# Everything the tests expect is derived here from the lockfile (@debs//:sets.bzl) and from the
# same arguments ci_image takes, so that ci_image can forward its own.

# Locales that the-process's images generate (locale.gen), as `locale -a` spells them.
REQUIRED_LOCALES = ["C.utf8", "en_US.utf8", "da_DK.utf8"]

def _octal(n):
    """n in octal digits, as `stat -c %a` prints a mode."""
    digits = ""
    for _ in range(8):
        digits = "01234567"[n % 8] + digits
        n = n // 8
        if n == 0:
            break
    return digits

def _locked_version(package_set, name):
    """The locked version of package name in package_set, or None."""
    for k in SETS[package_set]:
        if PACKAGES[k]["name"] == name:
            return PACKAGES[k]["version"]
    return None

def _upstream(version):
    """The upstream part of a Debian version: no epoch, no revision."""
    return version.split(":")[-1].rsplit("-", 1)[0]

def _gcc_version_line(package_set):
    """What `gcc --version` prints first when the set has gcc (Debian's gcc-N), else ""."""
    if _locked_version(package_set, "gcc") == None:
        return ""
    for k in SETS[package_set]:
        name = PACKAGES[k]["name"]
        if name.startswith("gcc-") and name[len("gcc-"):].isdigit():
            v = PACKAGES[k]["version"]
            return "gcc (Debian %s) %s" % (v, _upstream(v))
    fail("%s: gcc is locked but no gcc-N package" % package_set)

def _account_lines(users, groups):
    """The expected users.expected and groups.expected (getent fields, one record a line)."""
    user_lines = ["root:0:0:/root:/bin/bash"] + ["%s:%d:%d:%s:%s" % (u["name"], u["uid"], u["gid"], u["home"], u["shell"]) for u in users]
    all_groups = [(g["name"], g["gid"]) for g in groups]
    for u in users:
        if u["group"] not in [n for n, _ in all_groups]:
            all_groups.append((u["group"], u["gid"]))
    group_lines = ["%s:%d:%s" % (n, gid, ",".join([u["name"] for u in users if n in u.get("groups", [])])) for n, gid in all_groups]
    return "\n".join(user_lines) + "\n", "\n".join(group_lines) + "\n"

def image_tests(
        name,
        package_set,
        pg_major,
        users = [POSTGRES_USER],
        groups = [SSL_CERT_GROUP],
        dirs = POSTGRES_DIRS,
        env = {},
        locales = REQUIRED_LOCALES,
        image = None):
    """Structure and behaviour tests of one Postgres image, run in it without Docker.

    <name>_structure_test: pg_config and postgres report the locked Postgres version, gcc the
    locked gcc (when the set has it), users, groups and directories as declared, the required
    locales, the environment, and `dpkg-query` listing exactly the locked set.
    <name>_postgres_test: as postgres, initdb, a server on 127.0.0.1 and the socket directory,
    psql through both, stop. Sets that are not locked give incompatible (skipped) tests.

    Args:
      name: the prefix of the tests' names (<name>_structure_test, <name>_postgres_test); not
        the image's own name, which gazelle would see as a second rule of that name.
      package_set: the image's lockfile set.
      pg_major: the Postgres major version the image holds.
      users: the users ci_image added (its argument of the same name).
      groups: the groups ci_image added.
      dirs: the directories ci_image created.
      env: the environment ci_image set over DEFAULT_ENV.
      locales: locales `locale -a` must list.
      image: the image target; defaults to ":<name>" (only where no ci_image has that name).
    """
    image = image or ":" + name
    locked = package_set in SETS
    compat = [] if locked else ["@platforms//:incompatible"]
    files, test_env = {}, {}
    if locked:
        pg = _locked_version(package_set, "postgresql-" + pg_major)
        if pg == None:
            fail("%s: set %s has no postgresql-%s" % (name, package_set, pg_major))
        user_lines, group_lines = _account_lines(users, groups)
        files = {
            "/ci-images-test/dirs.expected": "".join(["/%s %s %s %s\n" % (d["path"], _octal(d["mode"]), d["owner"], d["group"]) for d in dirs]),
            "/ci-images-test/dpkg.expected": "\n".join(sorted(SETS[package_set])) + "\n",
            "/ci-images-test/env.expected": "\n".join(sorted(["%s=%s" % kv for kv in (DEFAULT_ENV | env).items()])) + "\n",
            "/ci-images-test/groups.expected": group_lines,
            "/ci-images-test/users.expected": user_lines,
        }
        test_env = {
            "WANT_GCC": _gcc_version_line(package_set),
            "WANT_LOCALES": " ".join(locales),
            "WANT_PG_CONFIG": "PostgreSQL %s (Debian %s)" % (_upstream(pg), pg),
            "WANT_PG_MAJOR": pg_major,
        }
    image_test(
        name = name + "_structure_test",
        image = image,
        script = "tests/structure.sh",
        files = files,
        env = test_env,
        user = "root",
        size = "medium",
        target_compatible_with = compat,
    )
    image_test(
        name = name + "_postgres_test",
        image = image,
        script = "tests/postgres.sh",
        args = [pg_major],
        user = "postgres",
        size = "medium",
        target_compatible_with = compat,
    )

# ---- end of image tests ------------------------------------------------------------------------
