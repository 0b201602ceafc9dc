//! `models!("dir")` and `seeds!("dir")`: a project directory's files embedded in the
//! binary, so it is self-contained (parse → model → validate → expand, in one small step:
//! the only input is a path literal).

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;

/// Every file under `dir` ending in `.ext`, as (path relative to `dir` with `/`, absolute
/// path), sorted by relative path.
fn files(dir: &Path, ext: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some(ext) {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The expansion of `models!` (`ext = "sql"`) or `seeds!` (`ext = "csv"`).
pub fn expand(
    input: TokenStream,
    manifest_dir: Option<&Path>,
    ext: &str,
    what: &str,
) -> syn::Result<TokenStream> {
    let lit: syn::LitStr = syn::parse2(input).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "expected the {what} directory as a string, relative to Cargo.toml: `(\"{what}\")`"
            ),
        )
    })?;
    let rel = lit.value();
    let dir = match manifest_dir {
        Some(m) => m.join(&rel),
        None => PathBuf::from(&rel),
    };
    if !dir.is_dir() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "no directory `{rel}` next to Cargo.toml ({}): create it, or give the path of the {what} directory relative to the crate's Cargo.toml",
                dir.display()
            ),
        ));
    }
    let found = files(&dir, ext).map_err(|e| {
        syn::Error::new(lit.span(), format!("cannot read `{}`: {e}", dir.display()))
    })?;
    let entries = found.iter().map(|(rel, abs)| {
        let abs = abs.to_string_lossy().to_string();
        quote! { ::phlo::ProjectFile { path: #rel, text: ::core::include_str!(#abs) } }
    });
    Ok(quote! { { const FILES: &[::phlo::ProjectFile] = &[ #(#entries),* ]; FILES } })
}
