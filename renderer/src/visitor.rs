//! The visitor's own model in the worker: the last ONNX file imported
//! ([`RendererRequest::ImportOnnx`](microscope_core::protocol::RendererRequest)), kept as
//! its graph on the host so that renders on either compute path build it from there. One at a
//! time: a visitor's model can be hundreds of megabytes, and the page imports the one it shows.

use std::cell::RefCell;
use std::rc::Rc;

use microscope_core::atlas::Sha256Hex;
use microscope_core::model_import::ImportedOnnx;

thread_local! {
    static IMPORTED: RefCell<Option<Rc<ImportedOnnx>>> = const { RefCell::new(None) };
}

/// Keeps `imported`, replacing the previous visitor's model.
pub fn keep(imported: ImportedOnnx) {
    IMPORTED.with(|slot| *slot.borrow_mut() = Some(Rc::new(imported)));
}

/// The imported model whose file has `sha256`, if it is the one kept.
pub fn find(sha256: &Sha256Hex) -> Option<Rc<ImportedOnnx>> {
    IMPORTED.with(|slot| slot.borrow().as_ref().filter(|kept| &kept.sha256 == sha256).cloned())
}
