//! Glue to the renderer worker: the worker (and its large wasm module) is started on first use
//! only, requests are queued until it says it is ready, and each job's events reach the
//! callback that asked for them. A worker that crashes (a panic, running out of memory) fails
//! its jobs with a typed cause and is let go: the next job starts a new one. The number of jobs
//! in flight is kept on the document element (`data-renderer-jobs`), and the number of workers
//! started in this page in `data-renderer-starts`, so tests and tools can see whether the
//! worker is idle and whether it was replaced.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use microscope_core::protocol::{RenderFailure, RendererEvent, RendererRequest};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{MessageEvent, Worker};

type Listener = Box<dyn Fn(RendererEvent)>;

struct Renderer {
    worker: Worker,
    ready: Cell<bool>,
    queue: RefCell<Vec<RendererRequest>>,
    listeners: RefCell<HashMap<u32, Listener>>,
    next_job: Cell<u32>,
}

thread_local! {
    static RENDERER: RefCell<Option<Rc<Renderer>>> = const { RefCell::new(None) };
    /// Workers started in this page so far.
    static STARTS: Cell<u32> = const { Cell::new(0) };
}

/// Sets `<html name="value">`.
fn set_root_attribute(name: &str, value: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.document_element())
    {
        let _ = root.set_attribute(name, value);
    }
}

/// What a crashed worker's error event means. The browser reports a worker's death as text
/// only; this is the one place where that text becomes a typed cause.
fn crash_failure(message: String) -> RenderFailure {
    let lowered = message.to_lowercase();
    let memory = ["out of memory", "memory allocation", "memory.grow", "maximum memory"]
        .iter()
        .any(|sign| lowered.contains(sign));
    if memory { RenderFailure::OutOfMemory { message } } else { RenderFailure::Crashed { message } }
}

impl Renderer {
    /// Publishes how many jobs are in flight (`<html data-renderer-jobs="N">`).
    fn publish(&self) {
        let count = self.listeners.borrow().len();
        set_root_attribute("data-renderer-jobs", &count.to_string());
    }

    fn start() -> Result<Rc<Self>, RenderFailure> {
        let worker =
            Worker::new(&crate::links::worker_script()).map_err(|error| RenderFailure::Other {
                message: format!("could not start the renderer worker: {error:?}"),
            })?;
        let starts = STARTS.with(|starts| {
            starts.set(starts.get() + 1);
            starts.get()
        });
        set_root_attribute("data-renderer-starts", &starts.to_string());
        let renderer = Rc::new(Self {
            worker,
            ready: Cell::new(false),
            queue: RefCell::new(Vec::new()),
            listeners: RefCell::new(HashMap::new()),
            next_job: Cell::new(1),
        });
        let weak = Rc::downgrade(&renderer);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(renderer) = weak.upgrade() {
                renderer.receive(event);
            }
        });
        renderer.worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let weak = Rc::downgrade(&renderer);
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                if let Some(renderer) = weak.upgrade() {
                    renderer.crashed(event.message());
                }
            });
        renderer.worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(renderer)
    }

    /// The worker died: it is let go (the next job starts a new one) and its jobs fail.
    fn crashed(self: &Rc<Self>, message: String) {
        RENDERER.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.as_ref().is_some_and(|current| Rc::ptr_eq(current, self)) {
                *slot = None;
            }
        });
        self.worker.terminate();
        self.queue.borrow_mut().clear();
        self.fail_all(&crash_failure(message));
    }

    fn receive(&self, event: MessageEvent) {
        let event = match serde_wasm_bindgen::from_value::<RendererEvent>(event.data()) {
            Ok(event) => event,
            Err(error) => {
                self.fail_all(&RenderFailure::Other {
                    message: format!("unreadable message from the renderer: {error}"),
                });
                return;
            }
        };
        let job = match &event {
            RendererEvent::Ready => {
                self.ready.set(true);
                for request in self.queue.take() {
                    self.post(&request);
                }
                return;
            }
            RendererEvent::Progress { job, .. }
            | RendererEvent::RenderProgress { job, .. }
            | RendererEvent::PhotoProgress { job, .. }
            | RendererEvent::ImportProgress { job, .. } => *job,
            RendererEvent::SmokeDone { job, .. }
            | RendererEvent::RenderDone { job, .. }
            | RendererEvent::PhotoDone { job, .. }
            | RendererEvent::ImportDone { job, .. }
            | RendererEvent::Failed { job, .. } => {
                let job = *job;
                let listener = self.listeners.borrow_mut().remove(&job);
                self.publish();
                if let Some(listener) = listener {
                    listener(event);
                }
                return;
            }
        };
        if let Some(listener) = self.listeners.borrow().get(&job) {
            listener(event);
        }
    }

    fn post(&self, request: &RendererRequest) {
        let job = request_job(request);
        let sent =
            serde_wasm_bindgen::to_value(request).map_err(|error| error.to_string()).and_then(
                |value| self.worker.post_message(&value).map_err(|error| format!("{error:?}")),
            );
        if let Err(error) = sent {
            self.fail(
                job,
                RenderFailure::Other {
                    message: format!("could not send the request to the renderer: {error}"),
                },
            );
        }
    }

    fn fail(&self, job: u32, failure: RenderFailure) {
        let listener = self.listeners.borrow_mut().remove(&job);
        self.publish();
        if let Some(listener) = listener {
            listener(RendererEvent::Failed { job, failure });
        }
    }

    fn fail_all(&self, failure: &RenderFailure) {
        let listeners: Vec<(u32, Listener)> = self.listeners.borrow_mut().drain().collect();
        self.publish();
        for (job, listener) in listeners {
            listener(RendererEvent::Failed { job, failure: failure.clone() });
        }
    }
}

fn request_job(request: &RendererRequest) -> u32 {
    match request {
        RendererRequest::Smoke { job, .. }
        | RendererRequest::Render { job, .. }
        | RendererRequest::Photo { job, .. }
        | RendererRequest::ImportOnnx { job, .. }
        | RendererRequest::Cancel { job } => *job,
    }
}

/// Asks the renderer to stop job `job` after its current step; the job still ends with its
/// last event (a render's images so far). Does nothing when the renderer never started.
pub fn cancel_job(job: u32) {
    let renderer = RENDERER.with(|slot| slot.borrow().clone());
    if let Some(renderer) = renderer {
        let request = RendererRequest::Cancel { job };
        if renderer.ready.get() {
            renderer.post(&request);
        } else {
            // Not started yet: drop the queued request instead.
            renderer.queue.borrow_mut().retain(|queued| request_job(queued) != job);
            renderer.fail(job, RenderFailure::Cancelled);
        }
    }
}

/// Starts a job on the renderer (starting the worker if needed): `make_request` receives the
/// job number to put in the request, and `on_event` receives the job's events until it ends.
pub fn run_job(
    make_request: impl FnOnce(u32) -> RendererRequest,
    on_event: impl Fn(RendererEvent) + 'static,
) -> Result<u32, RenderFailure> {
    let renderer = RENDERER.with(|slot| -> Result<Rc<Renderer>, RenderFailure> {
        if let Some(renderer) = slot.borrow().as_ref() {
            return Ok(renderer.clone());
        }
        let renderer = Renderer::start()?;
        *slot.borrow_mut() = Some(renderer.clone());
        Ok(renderer)
    })?;
    let job = renderer.next_job.get();
    renderer.next_job.set(job.wrapping_add(1));
    renderer.listeners.borrow_mut().insert(job, Box::new(on_event));
    renderer.publish();
    let request = make_request(job);
    if renderer.ready.get() {
        renderer.post(&request);
    } else {
        renderer.queue.borrow_mut().push(request);
    }
    Ok(job)
}
