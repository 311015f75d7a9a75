//! /api/v1/tasks: list with filters, create, read, change and delete tasks, through the
//! same domain functions as My tasks.
use crate::domain::tasks::{self, Task, TaskInput, TaskPatch};
use crate::web::api::records;
use crate::web::api::schema::ErrorBody;

records::list_handler! {
    /// Tasks, oldest first. Reps and viewers see tasks assigned to them or created by them,
    /// and tasks about a record (as its page shows them); managers and admins see all.
    /// `due_before` (exclusive) and `due_after` (inclusive) take a time (RFC 3339) or a date
    /// (YYYY-MM-DD); a task due on a date compares its date (a time's UTC date), a timed one
    /// its instant; tasks with no due match neither.
    domain = tasks, record = Task, list = TaskList,
    path = "/api/v1/tasks", op = "list_tasks", tag = "tasks",
    errors = (
        (status = 422, description = "An unknown parameter, or a value that is not valid (the field is named).", body = ErrorBody),
    ),
}

records::create_handler! {
    /// Creates a task, assigned to you unless `assignee_id` names someone else (an active
    /// user who is not a viewer).
    domain = tasks, record = Task, input = TaskInput,
    path = "/api/v1/tasks", op = "create_task", tag = "tasks",
}

records::get_handler! {
    domain = tasks, record = Task, path = "/api/v1/tasks/{id}", op = "get_task", tag = "tasks",
    id = "Task id",
}

records::update_handler! {
    /// Changes a task (its assignee, its creator, a manager or an admin). `done: true`
    /// completes it (logged on its record's timeline), `false` reopens it.
    domain = tasks, record = Task, patch = TaskPatch,
    path = "/api/v1/tasks/{id}", op = "update_task", tag = "tasks", id = "Task id",
    forbidden = (description = "Only its assignee, its creator, a manager or an admin may change it (viewers none).", body = ErrorBody),
    conflict = "It was changed since `version`; nothing was changed.",
}

records::delete_handler! {
    domain = tasks, path = "/api/v1/tasks/{id}", op = "delete_task", tag = "tasks",
    id = "Task id", removed = "Removed.",
    forbidden = "Only its assignee, its creator, a manager or an admin may delete it (viewers none).",
}
