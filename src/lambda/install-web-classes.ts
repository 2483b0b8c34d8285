// Imported first by each Lambda entry (functions/*.ts): from here on this process's Request,
// Response and Headers are the light ones (web-classes.ts), before Hono makes any.
import { installLightWebClasses } from "./web-classes.js";

installLightWebClasses();
