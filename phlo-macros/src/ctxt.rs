//! Collects every diagnostic of one macro invocation so they are reported together.

use std::cell::Cell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Error collector threaded through the parse and validate phases (the `Ctxt` of serde_derive).
///
/// Recording an error never stops the phase: the next key or field is still checked, and
/// [`Ctxt::check`] hands back every error at once, combined into one [`syn::Error`].
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Cell<Option<syn::Error>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records `message`, spanned over `tokens` (the user's offending tokens).
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.syn_error(syn::Error::new_spanned(tokens, message));
    }

    /// Records `message` at `span`, for places with no tokens of their own (an empty `()`).
    pub(crate) fn error_at<M: Display>(&self, span: Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    pub(crate) fn syn_error(&self, error: syn::Error) {
        let combined = match self.errors.take() {
            Some(mut errors) => {
                errors.combine(error);
                errors
            }
            None => error,
        };
        self.errors.set(Some(combined));
    }

    /// Keeps the value of `result`, or records its error and yields `None`.
    pub(crate) fn ok<T>(&self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.syn_error(error)).ok()
    }

    /// Ends collection: every recorded error, or `Ok` when there were none.
    pub(crate) fn check(self) -> syn::Result<()> {
        match self.errors.into_inner() {
            Some(errors) => Err(errors),
            None => Ok(()),
        }
    }

    /// Ends collection for a phase that builds `value` only when its input made sense.
    ///
    /// A missing value is always accompanied by a recorded error; should it ever not be,
    /// the user gets an internal-error diagnostic instead of a panic.
    pub(crate) fn finish<T>(self, value: Option<T>) -> syn::Result<T> {
        self.check()?;
        value.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "internal error in phlo-macros: no model and no diagnostic; please report this bug",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_recorded_error() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "first");
        cx.error_at(Span::call_site(), "second");
        let messages: Vec<String> = cx
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn no_error_is_ok() {
        assert!(Ctxt::new().check().is_ok());
        assert_eq!(Ctxt::new().finish(Some(3)).unwrap(), 3);
    }

    #[test]
    fn missing_value_without_error_is_an_internal_error() {
        let error = Ctxt::new().finish::<u8>(None).unwrap_err();
        assert!(error.to_string().contains("internal error"));
    }
}
