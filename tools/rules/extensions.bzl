"""Module extension `apt`: one http_file per locked .deb, and a hub repository of package sets.

Usage in MODULE.bazel:

    apt = use_extension("//tools/rules:extensions.bzl", "apt")
    apt.lock(lockfile = "//images:apt.lock.json")
    use_repo(apt, "debs")

Bazel downloads each .deb once, checks its sha256, and keeps it in the repository cache. Nothing
else is fetched at build time. Mirrors work through Bazel's --downloader_config URL rewriting.
"""

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_file")

def _repo_name(key):
    return "deb_" + "".join([c if c.isalnum() or c in "._-" else "_" for c in key.elems()])

def _hub_impl(rctx):
    rctx.file("BUILD.bazel", rctx.attr.build)
    rctx.file("sets.bzl", rctx.attr.defs)

_hub = repository_rule(
    implementation = _hub_impl,
    doc = "The @debs hub: a filegroup per locked package set, and sets.bzl describing them.",
    attrs = {
        "build": attr.string(doc = "Content of BUILD.bazel."),
        "defs": attr.string(doc = "Content of sets.bzl."),
    },
)

def _apt_impl(mctx):
    lock = None
    for mod in mctx.modules:
        for tag in mod.tags.lock:
            if lock:
                fail("apt.lock: only one lockfile is supported (got %s and %s)" % (lock, tag.lockfile))
            lock = tag.lockfile
    if not lock:
        return
    data = json.decode(mctx.read(lock))
    if data.get("version") != 1:
        fail("%s: unsupported lockfile version %s" % (lock, data.get("version")))
    packages = data.get("packages", {})
    for key in sorted(packages):
        p = packages[key]
        http_file(
            name = _repo_name(key),
            urls = p["urls"],
            sha256 = p["sha256"],
            downloaded_file_path = _repo_name(key)[len("deb_"):] + ".deb",
        )
    sets = data.get("sets", {})
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for key in sorted(packages):
        build.append("alias(\n    name = %r,\n    actual = \"@%s//file\",\n)\n" % (_repo_name(key), _repo_name(key)))
    for name in sorted(sets):
        build.append("filegroup(\n    name = %r,\n    srcs = [\n%s    ],\n)\n" % (
            name,
            "".join(["        \"@%s//file\",\n" % _repo_name(k) for k in sets[name]]),
        ))
    defs = '"""Generated from %s."""\n\nINPUTS_SHA256 = %r\n\nSETS = %r\n\nPACKAGES = %r\n' % (
        lock,
        data.get("inputs_sha256", ""),
        {name: sets[name] for name in sorted(sets)},
        {k: {"label": "@debs//:" + _repo_name(k), "name": packages[k]["name"], "repo": packages[k].get("repo", ""), "version": packages[k]["version"]} for k in sorted(packages)},
    )
    _hub(name = "debs", build = "\n".join(build), defs = defs)

apt = module_extension(
    implementation = _apt_impl,
    doc = "Declares the .deb files of a lockfile written by `imagetool lock`.",
    tag_classes = {
        "lock": tag_class(
            doc = "The lockfile to read.",
            attrs = {"lockfile": attr.label(mandatory = True, doc = "The lockfile, e.g. //images:apt.lock.json.")},
        ),
    },
)
