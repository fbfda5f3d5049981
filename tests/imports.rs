//! No import circles in `src/`: a module that imports another must not be imported back by it,
//! directly or through others, so each can be read, tested and changed from its imports down.
//!
//! The graph is built from the source text: every `crate::` path in code (in `use` lines and
//! written out in place; comments left out), each resolved to the longest prefix that is a
//! module, gives an edge from the module it is written in to that module. An inline module
//! (`mod tests { ... }`) is a module of its own, as Rust has it: a file's unit tests may use a
//! module that uses the file. Circles are the strongly connected components of more than one
//! module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path from the crate root: `["face", "detect"]` for `src/face/detect.rs`.
type Module = Vec<String>;

/// Every module of the library under `src`, with its source text.
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = (relative.iter())
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            // The binary's root is its own crate, which reaches the library as `screentime::`.
            if module == ["main"] {
                continue;
            }
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = code(&std::fs::read_to_string(&path).unwrap());
            found.extend(inline_modules(module, &text));
        }
    }
    found
}

/// The module's own code and each inline module's (`mod name { ... }`), by module path.
fn inline_modules(module: Module, code: &str) -> Vec<(Module, String)> {
    let mut own = String::new();
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("mod ") {
        let (before, after) = rest.split_at(at);
        let name_length = after[4..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len() - 4);
        let opens = after[4 + name_length..].trim_start().starts_with('{');
        let starts_word = before.chars().next_back().is_none_or(|c| c.is_whitespace());
        if !(opens && starts_word) {
            own.push_str(&rest[..at + 4]);
            rest = &rest[at + 4..];
            continue;
        }
        own.push_str(before);
        let body_at = after.find('{').unwrap();
        let mut depth = 0;
        let end = after[body_at..]
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(after.len(), |(i, _)| body_at + i + 1);
        let mut inner = module.clone();
        inner.push(after[4..4 + name_length].to_string());
        found.extend(inline_modules(inner, &after[body_at + 1..end - 1]));
        rest = &after[end..];
    }
    own.push_str(rest);
    found.push((module, own));
    found
}

/// The text without comments: doc comments name modules in links without importing them.
fn code(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| line.split_once(" //").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path written after `crate::`, use groups (`crate::a::{b, c::{d, e}}`) spread out.
fn crate_paths(code: &str) -> Vec<Module> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &code[at + "crate::".len()..];
        tree(&mut rest, Vec::new(), &mut paths);
    }
    paths
}

/// Reads one use tree from the start of `rest` (a path, `*`, or a `{...}` group after a path),
/// adding each full path under `prefix` to `paths`.
fn tree(rest: &mut &str, mut prefix: Module, paths: &mut Vec<Module>) {
    loop {
        *rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            *rest = group;
            loop {
                tree(rest, prefix.clone(), paths);
                *rest = rest.trim_start();
                if let Some(next) = rest.strip_prefix(',') {
                    *rest = next;
                    if let Some(end) = rest.trim_start().strip_prefix('}') {
                        *rest = end;
                        break;
                    }
                } else {
                    *rest = rest.strip_prefix('}').unwrap_or(rest);
                    break;
                }
            }
            return;
        }
        let length = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if length > 0 {
            prefix.push(rest[..length].to_string());
            *rest = &rest[length..];
        }
        match rest.strip_prefix("::") {
            Some(next) if !next.starts_with('<') => *rest = next,
            _ => break,
        }
    }
    // `as name` renames the last part; `self` names the module the group is in.
    if let Some(renamed) = rest.trim_start().strip_prefix("as ") {
        let length = renamed
            .trim_start()
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(renamed.len());
        *rest = &renamed.trim_start()[length..];
    }
    if prefix.last().is_some_and(|last| last == "self") {
        prefix.pop();
    }
    paths.push(prefix);
}

/// Who imports whom: each module's edges to the modules its `crate::` paths land in.
fn graph(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut edges = BTreeMap::new();
    for (module, text) in modules {
        let targets: &mut BTreeSet<Module> = edges.entry(module.clone()).or_default();
        for path in crate_paths(text) {
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix))
                .expect("the crate root is a module");
            if &target != module {
                targets.insert(target);
            }
        }
    }
    edges
}

/// The circles: strongly connected components of more than one module (Tarjan).
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Search<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, module: &'a Module) {
            let index = self.index.len();
            self.index.insert(module, index);
            self.low.insert(module, index);
            self.stack.push(module);
            for next in self.edges.get(module).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[module].min(self.low[next]);
                    self.low.insert(module, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[module].min(self.index[next]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == index {
                let at = self.stack.iter().rposition(|m| *m == module).unwrap();
                let component: Vec<Module> = self.stack.drain(at..).cloned().collect();
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for module in edges.keys() {
        if !search.index.contains_key(module) {
            search.visit(module);
        }
    }
    search.found
}

fn module(path: &str) -> Module {
    path.split("::")
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn no_module_in_src_imports_itself_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&modules(&src));
    // The graph is the real one: the engine chains the detector, the pipeline the engine, and
    // the tracker's unit tests the linker.
    assert!(edges[&module("face::engine")].contains(&module("face::detect")));
    assert!(edges[&module("job::pipeline")].contains(&module("face::engine")));
    assert!(edges[&module("track::tracker::tests")].contains(&module("track::linker")));
    assert!(!edges[&module("track::tracker")].contains(&module("track::linker")));
    let found: Vec<String> = circles(&edges)
        .iter()
        .map(|circle| {
            let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
            names.join(", ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "modules that import each other, directly or through each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn use_groups_comments_and_renames_are_read_as_rust_reads_them() {
    let text = "use crate::a::{b::{C, d::E}, f as g, self};\n\
                /// [`crate::h::I`] is a link, not an import\n\
                let x = crate::j::k(); // crate::l\n\
                let y = screentime::crate::m; let z = mycrate::n;";
    let paths = crate_paths(&code(text));
    let expected: Vec<Module> = ["a::b::C", "a::b::d::E", "a::f", "a", "j::k"]
        .iter()
        .map(|p| module(p))
        .collect();
    assert_eq!(paths, expected);
}

#[test]
fn an_inline_module_is_a_module_of_its_own() {
    let text = "use crate::a::B;\nfn f() { let x = { 1 }; }\n#[cfg(test)]\nmod tests {\n    \
                use crate::c::D;\n    mod deeper { fn g() { crate::e::f(); } }\n}\nfn h() {}\n";
    let found: BTreeMap<Module, Vec<Module>> = inline_modules(module("m"), text)
        .into_iter()
        .map(|(m, code)| (m, crate_paths(&code)))
        .collect();
    assert_eq!(found[&module("m")], vec![module("a::B")]);
    assert_eq!(found[&module("m::tests")], vec![module("c::D")]);
    assert_eq!(found[&module("m::tests::deeper")], vec![module("e::f")]);
}

#[test]
fn a_circle_through_three_modules_is_found_and_a_chain_is_not() {
    let edges: BTreeMap<Module, BTreeSet<Module>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a", "d"]),
        ("d", vec![]),
        ("e", vec!["d"]),
    ]
    .into_iter()
    .map(|(from, to)| (module(from), to.into_iter().map(module).collect()))
    .collect();
    let found = circles(&edges);
    assert_eq!(found.len(), 1);
    let mut circle = found[0].clone();
    circle.sort();
    assert_eq!(circle, vec![module("a"), module("b"), module("c")]);
}
