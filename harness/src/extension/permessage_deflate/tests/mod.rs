mod cases;
mod codec;
mod negotiation;
