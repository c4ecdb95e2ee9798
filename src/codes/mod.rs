//! Result codes: how an HRESULT is spelled and built (`hresult`), and what one means to a user,
//! with its causes and next steps from the rule table (`lookup`, behind `kmsdiag lookup`).

pub(crate) mod hresult;
pub(crate) mod lookup;
